import type { DNSConfig, NetworkConfig } from "@open-vcluster/api";
import { type FieldViolation, quote } from "./field-violation.js";
import { type Cidr, cidrContains, cidrsOverlap, formatCidr, parseCidr, parseIpAddress } from "./ip-address.js";
import { dnsSubdomainProblem } from "./names.js";

/** Kubernetes' own pod DNS limits. */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;
/** kube-apiserver refuses service ranges with more than 2^20 addresses. */
const MAX_SERVICE_HOST_BITS = 20;

function checkCidr(text: string, field: string, violations: FieldViolation[]): Cidr | undefined {
  if (text === "") return undefined;
  const parsed = parseCidr(text);
  if ("problem" in parsed) {
    violations.push({ field, description: parsed.problem });
    return undefined;
  }
  return parsed.cidr;
}

function validateDns(dns: DNSConfig | undefined, path: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (!dns) return violations;
  if (dns.nameservers.length > MAX_NAMESERVERS) {
    violations.push({
      field: `${path}.nameservers`,
      description: `must have at most ${MAX_NAMESERVERS} entries (got ${dns.nameservers.length})`,
    });
  }
  for (const [i, nameserver] of dns.nameservers.entries()) {
    if (!parseIpAddress(nameserver)) {
      violations.push({
        field: `${path}.nameservers[${i}]`,
        description: `must be an IPv4 or IPv6 address (got ${quote(nameserver)})`,
      });
    }
  }
  if (dns.searches.length > MAX_SEARCHES) {
    violations.push({
      field: `${path}.searches`,
      description: `must have at most ${MAX_SEARCHES} entries (got ${dns.searches.length})`,
    });
  }
  for (const [i, search] of dns.searches.entries()) {
    // A trailing dot marks a fully qualified name and is allowed, as in resolv.conf.
    const problem = dnsSubdomainProblem(search.endsWith(".") ? search.slice(0, -1) : search);
    if (problem) violations.push({ field: `${path}.searches[${i}]`, description: problem });
  }
  for (const [i, option] of dns.options.entries()) {
    if (!/^[A-Za-z0-9][-A-Za-z0-9_.]*(:\S+)?$/.test(option)) {
      violations.push({
        field: `${path}.options[${i}]`,
        description: `must be "name" or "name:value" without spaces, e.g. "ndots:2" (got ${quote(option)})`,
      });
    }
  }
  return violations;
}

export function validateNetwork(network: NetworkConfig | undefined, path: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (!network) return violations;
  const podCidr = checkCidr(network.podCidr, `${path}.pod_cidr`, violations);
  const serviceCidr = checkCidr(network.serviceCidr, `${path}.service_cidr`, violations);
  if (serviceCidr) {
    const bits = serviceCidr.family === 4 ? 32 : 128;
    if (bits - serviceCidr.prefixLength > MAX_SERVICE_HOST_BITS) {
      violations.push({
        field: `${path}.service_cidr`,
        description: `is too large: the prefix length must be at least ${bits - MAX_SERVICE_HOST_BITS} (got /${serviceCidr.prefixLength})`,
      });
    }
  }
  if (podCidr && serviceCidr && cidrsOverlap(podCidr, serviceCidr)) {
    violations.push({
      field: `${path}.service_cidr`,
      description: `must not overlap pod_cidr (${formatCidr(serviceCidr)} overlaps ${formatCidr(podCidr)})`,
    });
  }
  if (network.dnsServiceIp !== "") {
    const address = parseIpAddress(network.dnsServiceIp);
    if (!address) {
      violations.push({
        field: `${path}.dns_service_ip`,
        description: `must be an IPv4 or IPv6 address (got ${quote(network.dnsServiceIp)})`,
      });
    } else if (serviceCidr && !cidrContains(serviceCidr, address)) {
      violations.push({
        field: `${path}.dns_service_ip`,
        description: `must lie inside service_cidr ${formatCidr(serviceCidr)} (got ${network.dnsServiceIp})`,
      });
    }
  }
  violations.push(...validateDns(network.dns, `${path}.dns`));
  return violations;
}
