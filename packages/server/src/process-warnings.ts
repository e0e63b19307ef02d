/**
 * node:sqlite still announces itself as experimental on Node 22–24, although the small part
 * of its API the store uses is settled. Executables hide that one warning, and only it, so an
 * operator is not told the server is experimental. Libraries must not call this: it changes
 * process-wide state. Call it before anything imports node:sqlite.
 */
export function hideSqliteExperimentalWarning(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    if (text.startsWith("SQLite is an experimental feature")) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}
