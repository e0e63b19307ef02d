import { validateLabelKey, validateLabelValue } from "./validate-label.js";

/** `=` also stands for `==`; `exists` is a bare key and `!exists` a negated one. */
export type LabelSelectorOperator = "=" | "!=" | "in" | "notin" | "exists" | "!exists";

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelSelectorOperator;
  /** One value for `=` and `!=`, a sorted non-empty set for `in` and `notin`, none otherwise. */
  readonly values: readonly string[];
}

export interface LabelSelector {
  /** The AND-ed requirements, sorted by key; empty for a selector that matches everything. */
  readonly requirements: readonly LabelRequirement[];
  matches(labels: Readonly<Record<string, string>>): boolean;
  /** Canonical form: requirements sorted by key, `==` written as `=`, sets sorted and deduplicated. */
  toString(): string;
}

/** A selector that cannot be parsed. `position` is the 0-based offset of the problem in `selector`. */
export class LabelSelectorError extends Error {
  override readonly name = "LabelSelectorError";
  readonly selector: string;
  readonly position: number;

  constructor(selector: string, position: number, problem: string) {
    super(`invalid label selector ${JSON.stringify(selector)}: ${problem} at offset ${position}`);
    this.selector = selector;
    this.position = position;
  }
}

type TokenKind = "identifier" | "(" | ")" | "," | "=" | "==" | "!=" | "!" | "end";

interface Token {
  kind: TokenKind;
  text: string;
  position: number;
}

const DELIMITERS = new Set(["(", ")", ",", "=", "!", "<", ">"]);

function isWhitespace(char: string): boolean {
  return char === " " || char === "\t" || char === "\n" || char === "\r" || char === "\f" || char === "\v";
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (isWhitespace(char)) {
      i++;
      continue;
    }
    const position = i;
    const next = text[i + 1];
    if (char === "(" || char === ")" || char === ",") {
      tokens.push({ kind: char, text: char, position });
      i++;
    } else if (char === "=") {
      const double = next === "=";
      tokens.push({ kind: double ? "==" : "=", text: double ? "==" : "=", position });
      i += double ? 2 : 1;
    } else if (char === "!") {
      const notEquals = next === "=";
      tokens.push({ kind: notEquals ? "!=" : "!", text: notEquals ? "!=" : "!", position });
      i += notEquals ? 2 : 1;
    } else if (char === "<" || char === ">") {
      throw new LabelSelectorError(text, position, `operator "${char}" is not supported`);
    } else {
      let end = i;
      while (end < text.length && !isWhitespace(text[end] as string) && !DELIMITERS.has(text[end] as string)) end++;
      tokens.push({ kind: "identifier", text: text.slice(i, end), position });
      i = end;
    }
  }
  tokens.push({ kind: "end", text: "", position: text.length });
  return tokens;
}

function describe(token: Token): string {
  return token.kind === "end" ? "end of selector" : JSON.stringify(token.text);
}

class Parser {
  private index = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    if (this.peek().kind === "end") return requirements;
    for (;;) {
      requirements.push(this.requirement());
      const token = this.take();
      if (token.kind === "end") return requirements;
      if (token.kind !== ",") this.fail(token, `expected "," or end of selector, found ${describe(token)}`);
    }
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private take(): Token {
    const token = this.peek();
    if (token.kind !== "end") this.index++;
    return token;
  }

  private fail(token: Token, problem: string): never {
    throw new LabelSelectorError(this.text, token.position, problem);
  }

  private key(): string {
    const token = this.take();
    if (token.kind !== "identifier") this.fail(token, `expected a label key, found ${describe(token)}`);
    const problem = validateLabelKey(token.text);
    if (problem) this.fail(token, problem);
    return token.text;
  }

  private value(token: Token): string {
    const problem = validateLabelValue(token.text);
    if (problem) this.fail(token, problem);
    return token.text;
  }

  private requirement(): LabelRequirement {
    if (this.peek().kind === "!") {
      this.take();
      return { key: this.key(), operator: "!exists", values: [] };
    }
    const key = this.key();
    const token = this.peek();
    switch (token.kind) {
      case "end":
      case ",":
        return { key, operator: "exists", values: [] };
      case "=":
      case "==":
      case "!=":
        this.take();
        return { key, operator: token.kind === "!=" ? "!=" : "=", values: [this.singleValue(token)] };
      case "identifier":
        if (token.text === "in" || token.text === "notin") {
          this.take();
          return { key, operator: token.text, values: this.valueSet(token) };
        }
        return this.fail(
          token,
          `expected an operator (=, ==, !=, in, notin) after key "${key}", found ${describe(token)}`,
        );
      default:
        return this.fail(
          token,
          `expected an operator (=, ==, !=, in, notin) after key "${key}", found ${describe(token)}`,
        );
    }
  }

  /** `k=` selects an empty value, as in Kubernetes. */
  private singleValue(operator: Token): string {
    const token = this.peek();
    if (token.kind === "end" || token.kind === ",") return "";
    if (token.kind !== "identifier")
      this.fail(token, `expected a value after "${operator.text}", found ${describe(token)}`);
    this.take();
    return this.value(token);
  }

  private valueSet(operator: Token): string[] {
    const open = this.take();
    if (open.kind !== "(") this.fail(open, `expected "(" after "${operator.text}", found ${describe(open)}`);
    if (this.peek().kind === ")") this.fail(this.peek(), `the set of values for "${operator.text}" must not be empty`);
    const values = new Set<string>();
    for (;;) {
      const token = this.peek();
      if (token.kind === "identifier") {
        this.take();
        values.add(this.value(token));
      } else if (token.kind === "," || token.kind === ")") {
        values.add("");
      } else {
        this.fail(
          token,
          `expected a value or ")" in the set of values for "${operator.text}", found ${describe(token)}`,
        );
      }
      const separator = this.take();
      if (separator.kind === ")") break;
      if (separator.kind !== ",") {
        this.fail(
          separator,
          `expected "," or ")" in the set of values for "${operator.text}", found ${describe(separator)}`,
        );
      }
    }
    return [...values].sort();
  }
}

function matchesRequirement(requirement: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = present ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case "exists":
      return present;
    case "!exists":
      return !present;
    case "=":
      return present && value === requirement.values[0];
    case "!=":
      return !present || value !== requirement.values[0];
    case "in":
      return present && requirement.values.includes(value as string);
    case "notin":
      return !present || !requirement.values.includes(value as string);
  }
}

function formatRequirement(requirement: LabelRequirement): string {
  switch (requirement.operator) {
    case "exists":
      return requirement.key;
    case "!exists":
      return `!${requirement.key}`;
    case "=":
    case "!=":
      return `${requirement.key}${requirement.operator}${requirement.values[0] ?? ""}`;
    case "in":
    case "notin":
      return `${requirement.key} ${requirement.operator} (${requirement.values.join(",")})`;
  }
}

function compareKeys(a: LabelRequirement, b: LabelRequirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Parses a Kubernetes equality- or set-based label selector: a comma-separated AND of `k=v`, `k==v`,
 * `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` and `!k`. The empty string matches everything.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const parsed = new Parser(text, tokenize(text)).parse().sort(compareKeys);
  const requirements = Object.freeze(
    parsed.map((requirement) => Object.freeze({ ...requirement, values: Object.freeze([...requirement.values]) })),
  );
  const canonical = requirements.map(formatRequirement).join(",");
  return Object.freeze({
    requirements,
    matches: (labels: Readonly<Record<string, string>>) =>
      requirements.every((requirement) => matchesRequirement(requirement, labels)),
    toString: () => canonical,
  });
}
