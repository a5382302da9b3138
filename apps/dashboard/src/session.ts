import { AuthenticationError } from "@hugo/client";
import type { AuthSession } from "@hugo/protocol";
import { type QueryClient, useQuery } from "@tanstack/react-query";
import { client } from "./client.ts";

export const SESSION_KEY = ["session"] as const;
export const SETUP_KEY = ["setup"] as const;

/** The signed-in operator, or null when signed out (a 401 is an answer here, not an error). */
async function loadSession(): Promise<AuthSession | null> {
  try {
    return rememberSession(await client.auth.session());
  } catch (error) {
    if (error instanceof AuthenticationError) return rememberSession(null);
    throw error;
  }
}

function rememberSession<S extends AuthSession | null>(session: S): S {
  client.csrfToken = session?.csrf_token;
  return session;
}

/** Read once on load (the cookie survives a reload); sign-in, switching and sign-out replace it. */
export const useSession = () =>
  useQuery({ queryKey: SESSION_KEY, queryFn: loadSession, staleTime: Number.POSITIVE_INFINITY });

export const useSetupStatus = (enabled: boolean) =>
  useQuery({
    queryKey: SETUP_KEY,
    queryFn: () => client.auth.setupStatus(),
    enabled,
    staleTime: Number.POSITIVE_INFINITY,
  });

/** After sign-in, setup or a website switch: everything cached belonged to another session or website. */
export function startSession(queryClient: QueryClient, session: AuthSession): void {
  rememberSession(session);
  queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_KEY[0] });
  queryClient.setQueryData(SETUP_KEY, { needed: false });
  queryClient.setQueryData(SESSION_KEY, session);
}

/** Signed out (by the operator, or the server said the session ended): forget everything. */
export function endSession(queryClient: QueryClient): void {
  rememberSession(null);
  queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_KEY[0] });
  queryClient.setQueryData(SESSION_KEY, null);
}

/** A call refused because the session is gone (expired, signed out elsewhere, operator removed). */
export const isSessionGone = (error: unknown) =>
  error instanceof AuthenticationError && error.code === "unauthorized";
