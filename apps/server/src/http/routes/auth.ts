import { AuthSession, OwnerSetup, SESSION_COOKIE, SetupStatus, SignIn, WebsiteSwitch } from "@hugo/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import {
  type OperatorPrincipal,
  type OperatorSessionService,
  SESSION_TTL_MS,
} from "../../core/operator-sessions.ts";
import { signedInOperator } from "../auth.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";
import { rateLimiters } from "../rate-limit.ts";

const tags = ["Operator sign-in"];

/** Sign-in attempts a minute: per address (a whole office may share one), and per account whatever the address. */
const LOGINS_PER_IP = 60;
const LOGINS_PER_EMAIL = 10;

/**
 * The dashboard's sign-in: an HttpOnly, SameSite=Lax session cookie (Secure when PUBLIC_URL is
 * https) and a CSRF token to echo in `X-CSRF-Token`. JSON bodies only, so a cross-site form cannot
 * post here; changes made with the cookie also need the CSRF header (checked in http/auth.ts).
 */
export const authRoutes =
  (deps: { sessions: OperatorSessionService; publicUrl: string }): FastifyPluginAsyncZod =>
  async (app) => {
    const { sessions } = deps;
    const secure = deps.publicUrl.startsWith("https:");
    const limiter = await rateLimiters(app);
    const loginLimits = [
      limiter(LOGINS_PER_IP, (req) => `login:ip:${req.ip}`),
      limiter(
        LOGINS_PER_EMAIL,
        (req) =>
          `login:email:${String((req.body as { email?: unknown })?.email ?? "")
            .trim()
            .toLowerCase()}`,
      ),
    ];
    const setCookie = (reply: FastifyReply, value: string) =>
      reply.setCookie(SESSION_COOKIE, value, {
        httpOnly: true,
        sameSite: "lax",
        secure,
        path: "/",
        maxAge: SESSION_TTL_MS / 1000,
      });
    const clearCookie = (reply: FastifyReply) =>
      reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: "lax", secure, path: "/" });
    /** The signed-in operator; for a change, also checks the CSRF header. */
    const signedIn = (req: FastifyRequest) => signedInOperator(sessions, req);

    app.get(
      "/auth/setup",
      {
        schema: {
          tags,
          summary: "Whether this Hugo still needs its first owner",
          security: [],
          response: { 200: Envelope(SetupStatus) },
        },
      },
      async () => ok({ needed: await sessions.setupNeeded() }),
    );
    app.post(
      "/auth/setup",
      {
        config: { idempotent: false },
        preHandler: loginLimits,
        schema: {
          tags,
          summary: "First run: create the owner and their website, and sign in",
          description: "Only while no operator exists (`setup_done` after). Sets the session cookie.",
          security: [],
          body: OwnerSetup,
          response: { 201: Envelope(AuthSession), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { cookie, session } = await sessions.setup(req.body);
        setCookie(reply, cookie);
        reply.code(201);
        return ok(session, "added");
      },
    );
    app.post(
      "/auth/login",
      {
        config: { idempotent: false },
        preHandler: loginLimits,
        schema: {
          tags,
          summary: "Sign in with email and password",
          description:
            "Sets the `hugo_session` cookie (HttpOnly, SameSite=Lax). Send `csrf_token` back in `X-CSRF-Token` on every change.",
          security: [],
          body: SignIn,
          response: { 200: Envelope(AuthSession), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { cookie, session } = await sessions.signIn(req.body);
        setCookie(reply, cookie);
        return ok(session);
      },
    );
    app.get(
      "/auth/session",
      {
        schema: {
          tags,
          summary: "The signed-in operator, their role, websites and CSRF token",
          security: [],
          response: { 200: Envelope(AuthSession), ...errorResponses },
        },
      },
      async (req) => ok(await sessions.describe(await signedIn(req))),
    );
    app.post(
      "/auth/website",
      {
        config: { idempotent: false },
        // Signed in before the body is read: an anonymous caller learns nothing about the schema.
        onRequest: async (req) => {
          req.principal = await signedIn(req);
        },
        schema: {
          tags,
          summary: "Open another website the operator belongs to",
          security: [],
          body: WebsiteSwitch,
          response: { 200: Envelope(AuthSession), ...errorResponses },
        },
      },
      async (req) =>
        ok(await sessions.switchWebsite(req.principal as OperatorPrincipal, req.body.website_id), "updated"),
    );
    app.post(
      "/auth/logout",
      {
        config: { idempotent: false },
        schema: {
          tags,
          summary: "Sign out: ends the session and clears its cookie",
          security: [],
          response: { 200: Envelope(z.null()), ...errorResponses },
        },
      },
      async (req, reply) => {
        if (req.cookies[SESSION_COOKIE]) {
          const principal = await signedIn(req).catch((error: unknown) => {
            // An ended session is signed out already; a missing CSRF header is still refused.
            if (error instanceof AppError && error.reason === "unauthorized") return undefined;
            throw error;
          });
          if (principal) await sessions.signOut(principal);
        }
        clearCookie(reply);
        return ok(null, "deleted");
      },
    );
  };
