/** Process exit codes; scripts branch on them, so they are part of the command line's contract. */
export const ExitCode = {
  ok: 0,
  general: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  unavailable: 5,
  timeout: 6,
  unauthorized: 7,
  invalidArgument: 8,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
