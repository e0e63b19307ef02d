/** Where built Go tools are cached, outside the checkout. */
export declare function goToolCacheDir(): string;
/** Builds `tools/<name>` once (cached by its pins and the Go version) and returns the binary's path. */
export declare function ensureGoTool(name: string): string;
