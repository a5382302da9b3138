import { HugoClient } from "@hugo/client";

/**
 * The dashboard's one client: same origin, signed in with the HttpOnly session cookie; `csrfToken`
 * is set from the session (sign-in, setup, reload) and cleared on sign-out.
 */
export const client = new HugoClient({ baseUrl: "", credentials: "same-origin" });
