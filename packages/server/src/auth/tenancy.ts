import type { VCluster } from "@open-vcluster/api";
import type { Principal } from "./principal.js";

/** The label that places a new vcluster in a project. */
export const PROJECT_LABEL = "open-vcluster.io/project";

/** Admins see everything; others see what they own and what belongs to one of their projects. */
export function canAccess(principal: Principal, vcluster: Pick<VCluster, "owner" | "project">): boolean {
  if (principal.admin) return true;
  if (vcluster.owner === principal.subject) return true;
  return vcluster.project !== "" && principal.projects.includes(vcluster.project);
}

/** The store filter that scopes lists and watches to what the principal may see. */
export function visibilityFilter(principal: Principal): { owner: string; projects: string[] } | undefined {
  return principal.admin ? undefined : { owner: principal.subject, projects: principal.projects };
}

/**
 * The project a new vcluster belongs to: the project label when set (the caller must be a
 * member unless admin), else the caller's first project, else none.
 */
export function projectForCreate(
  principal: Principal,
  labels: Record<string, string>,
): { project: string } | { denied: string } {
  const requested = labels[PROJECT_LABEL];
  if (requested !== undefined && requested !== "") {
    if (!principal.admin && !principal.projects.includes(requested)) {
      return { denied: `labels["${PROJECT_LABEL}"]: caller is not a member of project "${requested}"` };
    }
    return { project: requested };
  }
  return { project: principal.projects[0] ?? "" };
}
