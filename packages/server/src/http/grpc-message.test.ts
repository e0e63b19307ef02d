import { describe, expect, it } from "vitest";
import { encodeGrpcMessage, reencodeGrpcMessage } from "./grpc-message.js";

describe("encodeGrpcMessage", () => {
  it("leaves printable ASCII other than % as it is", () => {
    expect(encodeGrpcMessage("vcluster js/js-missing not found: a=b?c&d#e")).toBe(
      "vcluster js/js-missing not found: a=b?c&d#e",
    );
  });

  it("percent-encodes %, control characters and the UTF-8 bytes of anything outside ASCII", () => {
    expect(encodeGrpcMessage("100% done")).toBe("100%25 done");
    expect(encodeGrpcMessage("line\nbreak\ttab")).toBe("line%0Abreak%09tab");
    expect(encodeGrpcMessage("héllo ☃")).toBe("h%C3%A9llo %E2%98%83");
    expect(encodeGrpcMessage("\u007f")).toBe("%7F");
  });

  it("round-trips through a full percent-decoder", () => {
    const message = "ünïcödé / 50% \r\n done ✓";
    expect(decodeURIComponent(encodeGrpcMessage(message))).toBe(message);
  });
});

describe("reencodeGrpcMessage", () => {
  it("turns connect's encodeURIComponent output into the spec's encoding", () => {
    expect(reencodeGrpcMessage(encodeURIComponent("vcluster js/js-missing not found"))).toBe(
      "vcluster js/js-missing not found",
    );
    expect(reencodeGrpcMessage(encodeURIComponent("50% é"))).toBe("50%25 %C3%A9");
  });

  it("keeps a value that is not percent-encoded UTF-8 unchanged", () => {
    expect(reencodeGrpcMessage("%E0%A4%A")).toBe("%E0%A4%A");
  });
});
