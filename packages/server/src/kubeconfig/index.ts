export {
  type BuildKubeconfigInput,
  type BuiltKubeconfig,
  buildKubeconfig,
  DEFAULT_TOKEN_VALIDITY_HOURS,
  EXEC_COMMAND,
  type KubeconfigFormat,
  kubeconfigEntryName,
  MAX_TOKEN_VALIDITY_HOURS,
} from "./build-kubeconfig.js";
export {
  CertificateAuthority,
  type ClientCertificateRequest,
  type IssuedCertificate,
} from "./certificate-authority.js";
export {
  issueKubeconfigToken,
  type KubeconfigTokenClaims,
  type KubeconfigTokenVerification,
  verifyKubeconfigToken,
} from "./kubeconfig-token.js";
