import type { SourceCreate } from "@hugo/protocol";

/**
 * The demo website's knowledge base: a small help centre for "Acme", the demo shop, and for Hugo's
 * own triggers, so that the agent can answer the seeded conversation's question out of the box.
 */
export function demoKnowledge(publicUrl: string): SourceCreate[] {
  return [
    {
      kind: "helpdesk",
      title: "Trigger a workflow from your backend",
      format: "markdown",
      url: `${publicUrl}/api/docs`,
      body: `# Trigger a workflow from your backend

To trigger a workflow from your backend, send \`POST /api/scenario/{workflow_id}/trigger/\` with the header \`Authorization: Bearer <token>\` and the JSON body \`{"session_id": "session_…"}\`. The workflow starts in that visitor's conversation.

## Before you trigger

The workflow must be saved and deployed, and it must begin with the "Triggered from code" block. A workflow that is only saved answers 409 \`workflow_not_deployed\`.

## Variables

Add \`"variables": {"order": "1042"}\` to the body to pass values the workflow uses as \`{{ order }}\`.

## From the browser

On your website, \`$crisp.push(["do", "bot:scenario:run", ["scenario_…"]])\` starts a workflow that allows it, with no token in the page.`,
    },
    {
      kind: "helpdesk",
      title: "Trigger the AI agent",
      format: "markdown",
      url: `${publicUrl}/api/docs`,
      body: `# Trigger the AI agent

Send \`POST /api/agent/trigger/\` with \`{"session_id": "session_…", "instruction": "VIP customer, premium support"}\` and a Bearer token. The agent reads the conversation and answers from the knowledge base, or hands the conversation over to a human.

## Instructions

The instruction applies to this one conversation and holds at most 2000 characters. Global rules for tone and boundaries belong in the agent's settings.`,
    },
    {
      kind: "helpdesk",
      title: "Refund policy",
      format: "markdown",
      body: `# Refund policy

We refund any Acme order within 30 days of delivery. Once we confirm the refund by email, the money reaches your card within five business days.

## Damaged items

Send us a photo of the damage and we refund you at once, without asking you to return the item.

## Gift cards

Gift cards cannot be refunded, but they never expire.`,
    },
    {
      kind: "helpdesk",
      title: "Shipping and delivery",
      format: "markdown",
      body: `# Shipping and delivery

Orders leave our warehouse within two business days, and we email the tracking number as soon as the parcel ships.

## International shipping

International parcels take seven to fourteen days, depending on customs in the destination country. Import duties are paid by the recipient.`,
    },
    {
      kind: "answer",
      question: "Can I change my delivery address?",
      answer: "Yes, until the order ships: open the order in your Acme account and choose Edit address.",
    },
    {
      kind: "answer",
      question: "Which payment methods do you accept?",
      answer: "We accept Visa, Mastercard, American Express and PayPal. We do not accept cryptocurrencies.",
    },
    {
      kind: "answer",
      question: "How do I reset my password?",
      answer:
        "On the sign-in page choose Forgot password; we email you a link that stays valid for one hour.",
    },
  ];
}
