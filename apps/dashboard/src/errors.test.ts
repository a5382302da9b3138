import { BadRequestError, ConnectionError, HugoError, RateLimitError, TimeoutError } from "@hugo/client";
import { describe, expect, it } from "vitest";
import { errorMessage, fieldErrors } from "./errors.ts";

describe("errors shown to operators", () => {
  it("names the server's code in words, with the wait of a rate limit", () => {
    const wrong = new HugoError({
      status: 401,
      code: "invalid_credentials",
      message: "The email or password is wrong.",
    });
    expect(errorMessage(wrong)).toBe("Wrong email or password.");
    const limited = (retryAfter?: number) =>
      new RateLimitError({ status: 429, code: "rate_limited", message: "Too many requests.", retryAfter });
    expect(errorMessage(limited(42))).toBe("Too many attempts. Try again in 42 seconds.");
    expect(errorMessage(limited(600))).toBe("Too many attempts. Try again in 10 minutes.");
    expect(errorMessage(limited())).toBe("Too many attempts. Wait a minute, then try again.");
    expect(errorMessage(new ConnectionError("fetch failed"))).toMatch(/can't be reached/);
    expect(errorMessage(new TimeoutError(60_000))).toMatch(/too long/);
    // Otherwise the server's own message, which is written for people.
    const scope = new HugoError({
      status: 403,
      code: "insufficient_scope",
      message: "Your role does not grant it.",
    });
    expect(errorMessage(scope)).toBe("Your role does not grant it.");
    expect(errorMessage(new Error("boom"))).toBe("Something went wrong. Try again.");
  });

  it("puts each validation problem under its field, as a sentence", () => {
    const invalid = new BadRequestError({
      status: 400,
      code: "invalid_body",
      message: 'Invalid body field "password": must be at least 10 characters',
      field: "password",
      issues: [
        { path: "password", message: "must be at least 10 characters" },
        { path: "email", message: "must be an email address" },
      ],
    });
    expect(fieldErrors(invalid)).toEqual({
      password: "Must be at least 10 characters.",
      email: "Must be an email address.",
    });
    const one = new BadRequestError({
      status: 400,
      code: "invalid_body",
      message: "too long",
      field: "name",
    });
    expect(fieldErrors(one)).toEqual({ name: "Too long." });
    expect(fieldErrors(new Error("x"))).toEqual({});
  });
});
