import {
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  GeneralNames,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from "@peculiar/asn1-x509";

const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const OID_COMMON_NAME = "2.5.4.3";
const OID_ORGANIZATION = "2.5.4.10";
// The order of the P-256 group: a private scalar must be in [1, n-1].
const P256_ORDER = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
// The CA's validity is fixed so that the same root secret always yields the same certificate
// content: a restarted server (or a replica with the same secret) is the same authority.
const CA_NOT_BEFORE = new Date(Date.UTC(2024, 0, 1));
const CA_NOT_AFTER = new Date(Date.UTC(2054, 0, 1));
// Client certificates start a little in the past, so clocks that lag slightly accept them.
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface IssuedCertificate {
  certificatePem: string;
  /** PKCS#8 PEM of the certificate's fresh private key. */
  privateKeyPem: string;
}

export interface ClientCertificateRequest {
  /** Subject common name: the user the virtual API server sees. */
  commonName: string;
  /** Subject organizations: the groups (e.g. "system:masters"). */
  organizations: string[];
  /** Identifies what the certificate is for, e.g. "urn:open-vcluster:vcluster:<id>". */
  uri?: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * The server's certificate authority for kubeconfigs: an ECDSA P-256 key derived from the
 * server's root secret (so it survives restarts whenever the secret does, and never needs to be
 * stored or sent anywhere) and a self-signed CA certificate. It issues the per-vcluster client
 * certificates of kubeconfigs. Only the CA certificate ever leaves the server.
 */
export class CertificateAuthority {
  readonly certificatePem: string;
  private readonly key: KeyObject;
  private readonly name: Name;
  private readonly keyId: Uint8Array;

  constructor(seed: Uint8Array) {
    this.key = deriveP256Key(seed);
    const spki = createPublicKey(this.key).export({ type: "spki", format: "der" });
    this.keyId = keyIdentifier(spki);
    const fingerprint = Buffer.from(this.keyId).toString("hex").slice(0, 12);
    this.name = distinguishedName(`open-vcluster kubeconfig CA ${fingerprint}`, ["open-vcluster"]);
    this.certificatePem = this.signed(
      new TBSCertificate({
        version: Version.v3,
        serialNumber: positiveSerial(createHash("sha256").update("ca").update(spki).digest()),
        signature: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
        issuer: this.name,
        validity: new Validity({ notBefore: CA_NOT_BEFORE, notAfter: CA_NOT_AFTER }),
        subject: this.name,
        subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
        extensions: new Extensions([
          extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, pathLenConstraint: 0 })),
          extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
          extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(this.keyId)),
        ]),
      }),
    );
  }

  /** A client certificate (with a fresh key) for TLS client authentication, signed by this CA. */
  issueClientCertificate(request: ClientCertificateRequest): IssuedCertificate {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const spki = publicKey.export({ type: "spki", format: "der" });
    const altNames = request.uri ? [new GeneralName({ uniformResourceIdentifier: request.uri })] : [];
    const certificatePem = this.signed(
      new TBSCertificate({
        version: Version.v3,
        serialNumber: positiveSerial(randomBytes(16)),
        signature: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
        issuer: this.name,
        validity: new Validity({
          notBefore: new Date(request.notBefore.getTime() - CLOCK_SKEW_MS),
          notAfter: request.notAfter,
        }),
        subject: distinguishedName(request.commonName, request.organizations),
        subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
        extensions: new Extensions([
          extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
          extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
          extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_clientAuth])),
          extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(spki))),
          extension(
            id_ce_authorityKeyIdentifier,
            false,
            new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(this.keyId) }),
          ),
          ...(altNames.length > 0 ? [extension(id_ce_subjectAltName, false, new GeneralNames(altNames))] : []),
        ]),
      }),
    );
    return { certificatePem, privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
  }

  private signed(tbs: TBSCertificate): string {
    const signature = sign("sha256", Buffer.from(AsnConvert.serialize(tbs)), this.key);
    const certificate = new Certificate({
      tbsCertificate: tbs,
      signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
      signatureValue: toArrayBuffer(signature),
    });
    return pem("CERTIFICATE", Buffer.from(AsnConvert.serialize(certificate)));
  }
}

/**
 * A P-256 private key whose scalar is derived from `seed` (HMAC-SHA256, re-derived in the
 * negligible case that it falls outside the group order).
 */
function deriveP256Key(seed: Uint8Array): KeyObject {
  for (let counter = 0; ; counter++) {
    const d = createHmac("sha256", seed).update(`open-vcluster:ca-key:${counter}`).digest();
    const scalar = BigInt(`0x${d.toString("hex")}`);
    if (scalar === 0n || scalar >= P256_ORDER) continue;
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey(); // 0x04 || x || y
    return createPrivateKey({
      format: "jwk",
      key: {
        kty: "EC",
        crv: "P-256",
        d: d.toString("base64url"),
        x: point.subarray(1, 33).toString("base64url"),
        y: point.subarray(33, 65).toString("base64url"),
      },
    });
  }
}

function distinguishedName(commonName: string, organizations: string[]): Name {
  const rdn = (type: string, value: string) =>
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
    ]);
  return new Name([...organizations.map((o) => rdn(OID_ORGANIZATION, o)), rdn(OID_COMMON_NAME, commonName)]);
}

function extension(id: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** RFC 5280's method 1: the SHA-1 of the public key bits (here of the whole SPKI, as many CAs do). */
function keyIdentifier(spki: Buffer): Uint8Array {
  return new Uint8Array(createHash("sha1").update(spki).digest());
}

/** A positive serial number (DER INTEGER) of at most 16 bytes. */
function positiveSerial(bytes: Uint8Array): ArrayBuffer {
  const serial = new Uint8Array(bytes.subarray(0, 16));
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  return toArrayBuffer(serial);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
