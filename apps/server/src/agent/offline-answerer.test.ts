import type { Message } from "@hugo/protocol";
import { describe, expect, it } from "vitest";
import { asksForHuman, confidenceOf, OfflineAnswerer, withoutChatNoise } from "./offline-answerer.ts";
import { DEFAULT_SETTINGS, splitQuestion } from "./service.ts";

const message = (from: "user" | "operator", content: string, extra: Partial<Message> = {}): Message =>
  ({ type: "text", from, origin: "chat", content, automated: from === "operator", ...extra }) as Message;

describe("the offline answerer's parts", () => {
  it("recognises a visitor asking for a person, in several languages, and nothing else", () => {
    for (const text of [
      "Can I talk to a human?",
      "I want to speak with someone",
      "live agent please",
      "Je voudrais parler à quelqu'un",
      "Quiero hablar con alguien",
      "Ich möchte mit einem Menschen sprechen",
    ])
      expect(asksForHuman(text), text).toBe(true);
    for (const text of ["How do I reset my password?", "Is the agent API documented?", "humanity"])
      expect(asksForHuman(text), text).toBe(false);
  });

  it("leaves greetings and politeness out of the question", () => {
    expect(withoutChatNoise("Hi! Thanks, please: how long does a refund take?")).toBe(
      "how long does a refund take?",
    );
    expect(withoutChatNoise("Hello")).toBe("");
  });

  it("takes the visitor's messages since the last reply as the question, else their last message", () => {
    const asked = splitQuestion([
      message("user", "Hello"),
      message("operator", "Hi, how can I help?"),
      message("user", "My parcel"),
      message("operator", "internal", { type: "note" }),
      message("user", "has not arrived"),
    ]);
    expect(asked).toEqual({
      question: "My parcel\nhas not arrived",
      history: [
        { role: "visitor", text: "Hello" },
        { role: "agent", text: "Hi, how can I help?" },
      ],
    });
    const answered = splitQuestion([message("user", "When do you open?"), message("operator", "At nine.")]);
    expect(answered.question).toBe("When do you open?");
    expect(splitQuestion([])).toEqual({ question: "", history: [] });
  });

  it("grows more confident as the best passage covers more of the question", () => {
    const at = (coverage: number) =>
      confidenceOf({ coverage, saturation: coverage * 0.45, sentence: coverage });
    expect(at(0)).toBeLessThan(at(0.5));
    expect(at(0.5)).toBeLessThan(at(1));
    expect(at(1)).toBeLessThan(1);
    expect(at(0)).toBeGreaterThan(0);
  });

  it("offers help when nothing has been asked yet, without searching", async () => {
    const result = await new OfflineAnswerer().answer({
      question: "",
      instruction: null,
      history: [],
      settings: { ...DEFAULT_SETTINGS, name: "Ada" },
      websiteName: () => Promise.reject(new Error("no website name expected")),
      locale: "en",
      rules: [],
      workflows: () => Promise.reject(new Error("no workflows expected")),
      search: () => Promise.reject(new Error("no search expected")),
      termStats: () => Promise.reject(new Error("no statistics expected")),
    });
    expect(result).toMatchObject({ decision: "answer", text: "Hello! I am Ada. How can I help you?" });
  });
});
