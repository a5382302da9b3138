import type { OperatorRole } from "@hugo/protocol";

export const ROLE_LABELS: Record<OperatorRole, string> = {
  owner: "Owner",
  admin: "Admin",
  agent: "Agent",
};
