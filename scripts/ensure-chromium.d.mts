/** Where Debian's package puts Chromium. */
export declare const DEBIAN_CHROMIUM: string;
/** The Chromium executable for the browser tests; installs Debian's package when missing. */
export declare function ensureChromium(): string;
