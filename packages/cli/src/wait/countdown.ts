/**
 * The grace-period countdown `delete --wait` shows while a vcluster is Deleting: workloads get
 * `graceSeconds` from the moment deletion was requested before the control plane goes.
 */
export function graceCountdown(requestedAt: Date, graceSeconds: number): (now: Date) => string {
  const endsAt = requestedAt.getTime() + graceSeconds * 1000;
  return (now) => {
    const left = Math.ceil((endsAt - now.getTime()) / 1000);
    return left > 0 ? `grace period: ${left}s left` : "grace period over, removing the control plane";
  };
}
