/**
 * The gRPC spec's percent-encoding of `grpc-message`: every byte of the UTF-8 message outside
 * printable ASCII (0x20–0x7E), and "%" itself, becomes %XX; everything else stays as it is.
 * (encodeURIComponent encodes far more, "/" and ":" among it, and clients that decode only what
 * the spec requires show those escapes to the user.)
 */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte < 0x20 || byte > 0x7e || byte === 0x25
        ? `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
        : String.fromCharCode(byte);
  }
  return out;
}

/** connect-es writes grpc-message with encodeURIComponent; this re-encodes its value as the spec asks. */
export function reencodeGrpcMessage(value: string): string {
  let message: string;
  try {
    message = decodeURIComponent(value);
  } catch {
    return value;
  }
  return encodeGrpcMessage(message);
}
