import {
  BLOCKS,
  BlockCatalogEntry,
  blockWaits,
  Run,
  RunDetail,
  RunListQuery,
  RunParams,
  SessionParams,
  TriggerResult,
  VersionParams,
  Workflow,
  WorkflowCreate,
  WorkflowExport,
  WorkflowParams,
  WorkflowSummary,
  WorkflowTestRun,
  WorkflowTrigger,
  WorkflowUpdate,
  WorkflowVersion,
} from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { WorkflowService } from "../../workflow/service.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

const tags = ["Workflows"];
const runTags = ["Workflow runs"];

/** The catalogue as the editor needs it: each kind's form (JSON Schema) and outputs. */
function catalog(): BlockCatalogEntry[] {
  return Object.values(BLOCKS).map((d) => {
    const defaults = d.options.safeParse({});
    return {
      kind: d.kind,
      category: d.category,
      label: d.label,
      description: d.description,
      waits: defaults.success ? blockWaits(d, defaults.data) : null,
      options: z.toJSONSchema(d.options, { io: "input", unrepresentable: "any" }) as Record<string, unknown>,
      handles: defaults.success ? d.handles(defaults.data) : [],
    };
  });
}

/** Workflows (Crisp bot scenarios): authoring, the trigger of contract §1, and runs. */
export const workflowRoutes =
  (workflows: WorkflowService): FastifyPluginAsyncZod =>
  async (app) => {
    const site = (req: { principal?: { websiteId: string } }) => req.principal!.websiteId;
    // Built on first use: most processes never serve the editor's catalogue.
    let blocks: BlockCatalogEntry[] | undefined;

    // Contract §1 — must be exact: `{session_id, variables?}` → 202 with the run.
    app.post(
      "/scenario/:workflow_id/trigger",
      {
        config: { scope: "workflows:trigger" },
        schema: {
          tags,
          summary: "Trigger a workflow in a conversation",
          description:
            "Starts the deployed version of the workflow in the visitor's conversation. A run already active there is ended (`superseded`). The workflow must begin with “Triggered from code”.",
          params: WorkflowParams,
          body: WorkflowTrigger,
          response: { 202: Envelope(TriggerResult), ...errorResponses },
        },
      },
      async (req, reply) => {
        const result = await workflows.trigger(site(req), req.params.workflow_id, req.body, "api");
        reply.code(202);
        return ok(result, "dispatched");
      },
    );

    app.get(
      "/workflows/blocks",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags,
          summary: "The block catalogue: each kind's options form and outputs",
          response: { 200: Envelope(z.array(BlockCatalogEntry)), ...errorResponses },
        },
      },
      async () => {
        blocks ??= catalog();
        return ok(blocks);
      },
    );
    app.get(
      "/workflows",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags,
          summary: "List workflows",
          response: { 200: Envelope(z.array(WorkflowSummary)), ...errorResponses },
        },
      },
      async (req) => ok(await workflows.list(site(req))),
    );
    app.post(
      "/workflows",
      {
        config: { scope: "workflows:write" },
        schema: {
          tags,
          summary: "Create a workflow (a draft; deploy it to run it)",
          body: WorkflowCreate,
          response: { 201: Envelope(Workflow), ...errorResponses },
        },
      },
      async (req, reply) => {
        const created = await workflows.create(site(req), req.body);
        reply.code(201);
        return ok(created, "added");
      },
    );
    app.post(
      "/workflows/import",
      {
        config: { scope: "workflows:write" },
        schema: {
          tags,
          summary: "Import an exported workflow file as a new workflow",
          body: WorkflowExport,
          response: { 201: Envelope(Workflow), ...errorResponses },
        },
      },
      async (req, reply) => {
        const created = await workflows.import(site(req), req.body);
        reply.code(201);
        return ok(created, "added");
      },
    );
    app.get(
      "/workflows/:workflow_id",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags,
          summary: "Get a workflow with its draft and the draft's validation",
          params: WorkflowParams,
          response: { 200: Envelope(Workflow), ...errorResponses },
        },
      },
      async (req) => ok(await workflows.get(site(req), req.params.workflow_id)),
    );
    app.patch(
      "/workflows/:workflow_id",
      {
        config: { scope: "workflows:write" },
        schema: {
          tags,
          summary: "Save the draft (production keeps running the deployed version)",
          params: WorkflowParams,
          body: WorkflowUpdate,
          response: { 200: Envelope(Workflow), ...errorResponses },
        },
      },
      async (req) => ok(await workflows.update(site(req), req.params.workflow_id, req.body), "updated"),
    );
    app.delete(
      "/workflows/:workflow_id",
      {
        config: { scope: "workflows:write" },
        schema: {
          tags,
          summary: "Delete a workflow; its active runs are cancelled",
          params: WorkflowParams,
          response: { 200: Envelope(z.object({})), ...errorResponses },
        },
      },
      async (req) => {
        await workflows.remove(site(req), req.params.workflow_id);
        return ok({}, "deleted");
      },
    );
    app.post(
      "/workflows/:workflow_id/duplicate",
      {
        config: { scope: "workflows:write" },
        schema: {
          tags,
          summary: "Copy a workflow's draft into a new workflow",
          params: WorkflowParams,
          response: { 201: Envelope(Workflow), ...errorResponses },
        },
      },
      async (req, reply) => {
        const created = await workflows.duplicate(site(req), req.params.workflow_id);
        reply.code(201);
        return ok(created, "added");
      },
    );
    app.post(
      "/workflows/:workflow_id/deploy",
      {
        config: { scope: "workflows:write" },
        schema: {
          tags,
          summary: "Deploy the draft as a new immutable version",
          description:
            "Refused with `workflow_invalid` (422) while validation finds problems; `data.issues` lists them.",
          params: WorkflowParams,
          response: { 201: Envelope(WorkflowVersion), ...errorResponses },
        },
      },
      async (req, reply) => {
        const version = await workflows.deploy(site(req), req.params.workflow_id);
        reply.code(201);
        return ok(version, "added");
      },
    );
    app.get(
      "/workflows/:workflow_id/versions",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags,
          summary: "List deployed versions, newest first",
          params: WorkflowParams,
          response: { 200: Envelope(z.array(WorkflowVersion)), ...errorResponses },
        },
      },
      async (req) => ok(await workflows.listVersions(site(req), req.params.workflow_id)),
    );
    app.get(
      "/workflows/:workflow_id/versions/:version",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags,
          summary: "Get a deployed version",
          params: VersionParams,
          response: { 200: Envelope(WorkflowVersion), ...errorResponses },
        },
      },
      async (req) => ok(await workflows.getVersion(site(req), req.params.workflow_id, req.params.version)),
    );
    app.post(
      "/workflows/:workflow_id/versions/:version/activate",
      {
        config: { scope: "workflows:write" },
        schema: {
          tags,
          summary: "Make an earlier version the one production runs (roll back)",
          params: VersionParams,
          response: { 200: Envelope(Workflow), ...errorResponses },
        },
      },
      async (req) =>
        ok(await workflows.activate(site(req), req.params.workflow_id, req.params.version), "updated"),
    );
    app.get(
      "/workflows/:workflow_id/export",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags,
          summary: "Export the draft as a JSON file",
          params: WorkflowParams,
          response: { 200: WorkflowExport, ...errorResponses },
        },
      },
      async (req, reply) => {
        const file = await workflows.export(site(req), req.params.workflow_id);
        const name = file.name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-|-$/g, "") || "workflow";
        reply.header("content-disposition", `attachment; filename="${name}.hugo-workflow.json"`);
        return file;
      },
    );
    app.post(
      "/workflows/:workflow_id/test",
      {
        config: { scope: "workflows:write" },
        schema: {
          tags,
          summary: "Test-run the draft, in a conversation or a new test one",
          params: WorkflowParams,
          body: WorkflowTestRun,
          response: { 202: Envelope(TriggerResult), ...errorResponses },
        },
      },
      async (req, reply) => {
        const result = await workflows.testRun(site(req), req.params.workflow_id, req.body);
        reply.code(202);
        return ok(result, "dispatched");
      },
    );

    app.get(
      "/workflows/:workflow_id/runs",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags: runTags,
          summary: "List a workflow's runs, newest first",
          params: WorkflowParams,
          querystring: RunListQuery,
          response: { 200: Envelope(z.array(Run)), ...errorResponses },
        },
      },
      async (req) =>
        ok(await workflows.listRuns(site(req), { workflowId: req.params.workflow_id }, req.query)),
    );
    app.get(
      "/conversations/:session_id/runs",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags: runTags,
          summary: "List a conversation's runs, newest first",
          params: SessionParams,
          querystring: RunListQuery,
          response: { 200: Envelope(z.array(Run)), ...errorResponses },
        },
      },
      async (req) => ok(await workflows.listRuns(site(req), { sessionId: req.params.session_id }, req.query)),
    );
    app.get(
      "/runs/:run_id",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags: runTags,
          summary: "Get a run with its log: the steps taken, their outputs and messages",
          params: RunParams,
          response: { 200: Envelope(RunDetail), ...errorResponses },
        },
      },
      async (req) => ok(await workflows.getRun(site(req), req.params.run_id)),
    );
    app.post(
      "/runs/:run_id/cancel",
      {
        config: { scope: "workflows:write" },
        schema: {
          tags: runTags,
          summary: "Cancel an active run",
          params: RunParams,
          response: { 200: Envelope(Run), ...errorResponses },
        },
      },
      async (req) => ok(await workflows.cancelRun(site(req), req.params.run_id), "updated"),
    );
  };
