import { describe, expect, it } from "vitest";
import {
  type Cidr,
  cidrContains,
  cidrsOverlap,
  formatCidr,
  formatIpAddress,
  parseCidr,
  parseIpAddress,
} from "./ip-address.js";

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if ("problem" in parsed) throw new Error(parsed.problem);
  return parsed.cidr;
}

describe("parseIpAddress", () => {
  it.each([
    ["10.96.0.10", 4, "10.96.0.10"],
    ["0.0.0.0", 4, "0.0.0.0"],
    ["255.255.255.255", 4, "255.255.255.255"],
    ["::", 6, "::"],
    ["::1", 6, "::1"],
    ["fd00::10", 6, "fd00::10"],
    ["2001:DB8:0:0:1:0:0:1", 6, "2001:db8::1:0:0:1"],
    ["2001:db8:0:0:0:0:0:1", 6, "2001:db8::1"],
    ["1:2:3:4:5:6:7:8", 6, "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", 6, "1:0:3:4:5:6:7:8"],
    ["::ffff:10.0.0.1", 6, "::ffff:a00:1"],
    ["1::", 6, "1::"],
  ] as const)("parses %j as IPv%i (%s)", (text, family, formatted) => {
    const address = parseIpAddress(text);
    expect(address?.family).toBe(family);
    expect(address && formatIpAddress(address)).toBe(formatted);
  });

  it.each([
    "",
    "10.96.0",
    "10.96.0.256",
    "10.96.0.010",
    "10.96.0.1.2",
    "a.b.c.d",
    " 10.0.0.1",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1::2::3",
    "12345::",
    "g::1",
    "1:2:3:4:5:6:7::8",
    "::ffff:10.0.0.256",
    "fe80::1%eth0",
    "[::1]",
  ])("rejects %j", (text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });
});

describe("parseCidr", () => {
  it.each(["10.96.0.0/12", "10.244.0.0/16", "0.0.0.0/0", "10.0.0.1/32", "fd00:10:96::/112", "::/0"])(
    "accepts %j",
    (text) => {
      expect(formatCidr(cidr(text))).toBe(text);
    },
  );

  it.each([
    ["10.96.0.0", /must be a CIDR/],
    ["10.96.0/12", /must be a CIDR/],
    ["10.96.0.0/33", /prefix length must be a number from 0 to 32/],
    ["10.96.0.0/", /prefix length/],
    ["10.96.0.0/012", /prefix length/],
    ["fd00::/129", /from 0 to 128/],
    ["10.96.0.1/12", /has host bits set; the network is 10\.96\.0\.0\/12/],
    ["fd00::1/64", /the network is fd00::\/64/],
  ])("rejects %j", (text, problem) => {
    const parsed = parseCidr(text);
    expect("problem" in parsed && parsed.problem).toMatch(problem);
  });
});

describe("cidrContains and cidrsOverlap", () => {
  it.each([
    ["10.96.0.0/12", "10.96.0.10", true],
    ["10.96.0.0/12", "10.111.255.255", true],
    ["10.96.0.0/12", "10.112.0.0", false],
    ["10.96.0.0/12", "fd00::1", false],
    ["fd00:10:96::/112", "fd00:10:96::a", true],
    ["fd00:10:96::/112", "fd00:10:97::a", false],
  ])("%s contains %s: %s", (range, address, expected) => {
    expect(cidrContains(cidr(range), parseIpAddress(address) ?? { family: 4, value: -1n })).toBe(expected);
  });

  it.each([
    ["10.244.0.0/16", "10.96.0.0/12", false],
    ["10.0.0.0/8", "10.96.0.0/12", true],
    ["10.96.0.0/12", "10.100.0.0/16", true],
    ["10.96.0.0/12", "10.96.0.0/12", true],
    ["10.112.0.0/12", "10.96.0.0/12", false],
    ["0.0.0.0/0", "fd00::/8", false],
    ["fd00::/8", "fd00:10::/32", true],
  ])("%s overlaps %s: %s", (a, b, expected) => {
    expect(cidrsOverlap(cidr(a), cidr(b))).toBe(expected);
    expect(cidrsOverlap(cidr(b), cidr(a))).toBe(expected);
  });
});
