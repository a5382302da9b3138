import { describe, expect, it } from "vitest";
import { mintVisitorCredential, verifyVisitorCredential } from "./visitor-credentials.ts";

const secret = "s".repeat(32);
const websiteId = "0b9c4a8e-7d1f-4c2a-9e3b-5f6a7b8c9d0e";
const sessionId = "session_1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

describe("visitor credentials", () => {
  it("verify the conversation they were minted for", () => {
    const token = mintVisitorCredential(secret, websiteId, sessionId);
    expect(verifyVisitorCredential(secret, token)).toEqual({ kind: "visitor", websiteId, sessionId });
  });

  it("are rejected under another secret, for another conversation, or when malformed", () => {
    const token = mintVisitorCredential(secret, websiteId, sessionId);
    expect(verifyVisitorCredential("t".repeat(32), token)).toBeUndefined();
    const other = "session_1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e";
    expect(verifyVisitorCredential(secret, token.replace(sessionId, other))).toBeUndefined();
    expect(verifyVisitorCredential(secret, `${token}0`)).toBeUndefined();
    expect(verifyVisitorCredential(secret, "")).toBeUndefined();
  });
});
