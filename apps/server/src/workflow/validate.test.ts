import {
  BLOCKS,
  ValidationIssue,
  type WorkflowBlock,
  type WorkflowEdge,
  type WorkflowGraph,
} from "@hugo/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findStart, nextBlockId, parseBlockOptions, validateGraph } from "./validate.ts";

const block = (
  id: string,
  kind: string,
  options: Record<string, unknown> = {},
  label?: string,
): WorkflowBlock => (label === undefined ? { id, kind, options } : { id, kind, options, label });
const edge = (from: string, to: string, handle = "next"): WorkflowEdge => ({ from, handle, to });
const graph = (blocks: WorkflowBlock[], edges: WorkflowEdge[] = []): WorkflowGraph => ({ blocks, edges });

const text = (id: string, label?: string) => block(id, "action.text", { text: `Hello from ${id}` }, label);
const picker = (id: string, values: string[], extra: Record<string, unknown> = {}) =>
  block(id, "action.picker", {
    text: "Pick one",
    choices: values.map((value) => ({ value, label: value.toUpperCase() })),
    ...extra,
  });

const codes = (g: WorkflowGraph) => validateGraph(g).map((i) => i.code);
const only = (g: WorkflowGraph, code: ValidationIssue["code"]) =>
  validateGraph(g).filter((i) => i.code === code);

/** start.message → hello → ask (picker) → yes: ok → end; no / other: again → back to ask. */
const sixBlockLoop = (): WorkflowGraph =>
  graph(
    [
      block("start", "start.message"),
      text("hello"),
      picker("ask", ["yes", "no"]),
      text("ok"),
      text("again"),
      block("end", "action.end"),
    ],
    [
      edge("start", "hello"),
      edge("hello", "ask"),
      edge("ask", "ok", "choice:yes"),
      edge("ask", "again", "choice:no"),
      edge("ask", "again", "other"),
      edge("again", "ask"),
      edge("ok", "end"),
    ],
  );

describe("validateGraph on valid graphs", () => {
  it("accepts a graph holding only a start block", () => {
    expect(validateGraph(graph([block("s", "start.code")]))).toEqual([]);
  });

  it("accepts a six-block graph whose picker loop goes back through a block that waits", () => {
    expect(validateGraph(sixBlockLoop())).toEqual([]);
  });

  it("accepts a block whose options all have defaults", () => {
    const g = graph([block("s", "start.code"), block("t", "action.typing")], [edge("s", "t")]);
    expect(validateGraph(g)).toEqual([]);
  });

  it("accepts a picker's timeout output when the picker has a timeout", () => {
    const g = graph(
      [block("s", "start.message"), picker("p", ["a"], { timeout_ms: 60_000 }), text("late")],
      [edge("s", "p"), edge("p", "late", "timeout")],
    );
    expect(validateGraph(g)).toEqual([]);
  });
});

describe("validateGraph on start blocks", () => {
  it("reports a graph without a start block once, for the whole graph", () => {
    const issues = validateGraph(graph([text("a")]));
    expect(issues).toEqual([
      { block_id: null, field: null, code: "no_start", message: expect.stringContaining("no start") },
    ]);
  });

  it("reports an empty graph as having no start block", () => {
    expect(codes(graph([]))).toEqual(["no_start"]);
  });

  it("reports each start block after the first", () => {
    const g = graph([
      block("a", "start.code"),
      block("b", "start.message"),
      text("x"),
      block("c", "start.event", { name: "e" }),
    ]);
    const issues = only(g, "several_starts");
    expect(issues.map((i) => i.block_id)).toEqual(["b", "c"]);
    expect(issues.every((i) => i.field === null)).toBe(true);
  });

  it("does not report unreachable blocks when there are several start blocks", () => {
    const g = graph([block("a", "start.code"), block("b", "start.code"), text("x")]);
    expect(only(g, "unreachable")).toEqual([]);
  });

  it("reports an edge that leads into the start block", () => {
    const g = graph([block("s", "start.code"), text("a")], [edge("s", "a"), edge("a", "s")]);
    expect(only(g, "edge_into_start")).toEqual([
      { block_id: "a", field: "edges[1].to", code: "edge_into_start", message: expect.any(String) },
    ]);
  });
});

describe("validateGraph on blocks", () => {
  it("reports the second block with an id already used", () => {
    const g = graph([block("s", "start.code"), text("a"), text("a")], [edge("s", "a")]);
    expect(only(g, "duplicate_block")).toEqual([
      { block_id: "a", field: "id", code: "duplicate_block", message: expect.stringContaining('"a"') },
    ]);
  });

  it("reports an unknown kind on the kind field", () => {
    const g = graph([block("s", "start.code"), block("x", "action.teleport")], [edge("s", "x")]);
    expect(validateGraph(g)).toEqual([
      {
        block_id: "x",
        field: "kind",
        code: "unknown_kind",
        message: expect.stringContaining("action.teleport"),
      },
    ]);
  });

  it("does not treat inherited object properties as block kinds", () => {
    expect(codes(graph([block("s", "start.code"), block("x", "constructor")], [edge("s", "x")]))).toEqual([
      "unknown_kind",
    ]);
  });

  it("reports invalid options with the dotted path of the field", () => {
    const g = graph([block("s", "start.code"), picker("p", ["fine", "not fine"])], [edge("s", "p", "next")]);
    const issues = only(g, "invalid_option");
    expect(issues).toEqual([
      {
        block_id: "p",
        field: "choices.1.value",
        code: "invalid_option",
        message: 'Block "p": choices.1.value must be letters, digits, _, . or -',
      },
    ]);
  });

  it("names the block by its label when it has one", () => {
    const g = graph(
      [block("s", "start.code"), block("t", "action.text", { text: "  " }, "Greeting")],
      [edge("s", "t")],
    );
    expect(only(g, "invalid_option")).toEqual([
      { block_id: "t", field: "text", code: "invalid_option", message: 'Block "Greeting": text is required' },
    ]);
  });

  it("says a missing required option is required", () => {
    const g = graph(
      [block("s", "start.code"), block("f", "action.field", { text: "Email?" })],
      [edge("s", "f")],
    );
    expect(only(g, "invalid_option").map((i) => [i.field, i.message])).toEqual([
      ["variable", 'Block "f": variable is required'],
    ]);
  });

  it("reports each option the kind does not have", () => {
    const g = graph(
      [block("s", "start.code"), block("t", "action.text", { text: "hi", colour: "red", size: 3 })],
      [edge("s", "t")],
    );
    expect(only(g, "invalid_option").map((i) => i.field)).toEqual(["colour", "size"]);
  });

  it("reports a refinement of a whole option on that option", () => {
    const g = graph(
      [
        block("s", "start.code"),
        block("ab", "condition.ab_split", {
          branches: [
            { name: "a", weight: 0 },
            { name: "b", weight: 0 },
          ],
        }),
      ],
      [edge("s", "ab", "a")],
    );
    expect(only(g, "invalid_option")).toEqual([
      {
        block_id: "ab",
        field: "branches",
        code: "invalid_option",
        message: 'Block "ab": branches needs a branch with a weight above 0',
      },
    ]);
  });
});

describe("validateGraph on edges", () => {
  it("reports an edge from a missing block on its from field, for no block", () => {
    const g = graph([block("s", "start.code"), text("a")], [edge("s", "a"), edge("ghost", "a")]);
    expect(only(g, "dangling_edge")).toEqual([
      {
        block_id: null,
        field: "edges[1].from",
        code: "dangling_edge",
        message: expect.stringContaining("ghost"),
      },
    ]);
  });

  it("reports an edge to a missing block on its to field, for the block it leaves", () => {
    const g = graph([block("s", "start.code")], [edge("s", "ghost")]);
    expect(only(g, "dangling_edge")).toEqual([
      {
        block_id: "s",
        field: "edges[0].to",
        code: "dangling_edge",
        message: expect.stringContaining("ghost"),
      },
    ]);
  });

  it.each([
    ["a text block's true output", text("x"), "true"],
    ["a picker's output for a choice it lacks", picker("x", ["yes"]), "choice:no"],
    ["a picker's timeout output when it has no timeout", picker("x", ["yes"]), "timeout"],
    ["an end block's next output", block("x", "action.end"), "next"],
    ["a condition's next output", block("x", "condition.email_known"), "next"],
  ])("reports %s as an unknown handle", (_, source, handle) => {
    const g = graph([block("s", "start.code"), source, text("y")], [edge("s", "x"), edge("x", "y", handle)]);
    expect(only(g, "unknown_handle")).toEqual([
      {
        block_id: "x",
        field: "edges[1].handle",
        code: "unknown_handle",
        message: expect.stringContaining(handle),
      },
    ]);
  });

  it("does not check handles of a block whose options do not parse", () => {
    const g = graph(
      [block("s", "start.code"), picker("x", []), text("y")],
      [edge("s", "x"), edge("x", "y", "anything")],
    );
    expect(codes(g)).toEqual(["invalid_option"]);
  });

  it("reports the second edge leaving the same output of a block", () => {
    const g = graph(
      [block("s", "start.code"), block("c", "condition.email_known"), text("a"), text("b")],
      [edge("s", "c"), edge("c", "a", "true"), edge("c", "b", "false"), edge("c", "b", "true")],
    );
    expect(only(g, "duplicate_edge")).toEqual([
      {
        block_id: "c",
        field: "edges[3].handle",
        code: "duplicate_edge",
        message: expect.stringContaining("true"),
      },
    ]);
  });

  it("treats an edge without a handle as leaving from next", () => {
    const g = graph([block("s", "start.code"), text("a")], [{ from: "s", to: "a" } as WorkflowEdge]);
    expect(validateGraph(g)).toEqual([]);
    expect(nextBlockId(g, "s", "next")).toBe("a");
  });
});

describe("validateGraph on structure", () => {
  it("reports each block the start block cannot reach, including islands with their own edges", () => {
    const g = graph(
      [block("s", "start.code"), text("a"), text("b"), text("c")],
      [edge("s", "a"), edge("b", "c")],
    );
    expect(only(g, "unreachable").map((i) => [i.block_id, i.field])).toEqual([
      ["b", null],
      ["c", null],
    ]);
  });

  it("reports a loop of blocks that never wait once, on its first block, listing its blocks", () => {
    const g = graph(
      [block("s", "start.code"), text("a"), text("b"), block("c", "condition.email_known")],
      [edge("s", "a"), edge("a", "b"), edge("b", "c"), edge("c", "a", "true")],
    );
    const issues = only(g, "loop_without_wait");
    expect(issues).toHaveLength(1);
    expect(issues[0]!.block_id).toBe("a");
    expect(issues[0]!.message).toMatch(/a → b → c/);
  });

  it("reports a block with an edge to itself", () => {
    const g = graph(
      [block("s", "start.code"), block("c", "condition.email_known")],
      [edge("s", "c"), edge("c", "c", "false")],
    );
    expect(only(g, "loop_without_wait").map((i) => i.block_id)).toEqual(["c"]);
  });

  it("reports two separate loops separately", () => {
    const g = graph(
      [block("s", "start.code"), text("a"), text("b"), block("c", "condition.email_known"), text("d")],
      [edge("s", "a"), edge("a", "b"), edge("b", "a"), edge("c", "d", "true"), edge("d", "c")],
    );
    expect(only(g, "loop_without_wait").map((i) => i.block_id)).toEqual(["a", "c"]);
  });

  it.each([
    ["a typing indicator (a timer)", block("w", "action.typing")],
    ["a wait", block("w", "action.wait", { duration_ms: 5_000 })],
    [
      "a field (the visitor)",
      block("w", "action.field", { text: "Email?", variable: "email", type: "email" }),
    ],
    ["a rating", block("w", "action.rating")],
  ])("accepts a loop through %s", (_, waiting) => {
    const g = graph(
      [block("s", "start.code"), text("a"), waiting],
      [edge("s", "a"), edge("a", "w"), edge("w", "a")],
    );
    expect(only(g, "loop_without_wait")).toEqual([]);
  });

  it("gives a loop through a block of unknown kind the benefit of the doubt", () => {
    const g = graph(
      [block("s", "start.code"), text("a"), block("u", "action.mystery")],
      [edge("s", "a"), edge("a", "u"), edge("u", "a")],
    );
    expect(codes(g)).toEqual(["unknown_kind"]);
  });

  it("reports a workflow started from code that begins by waiting for the visitor's message", () => {
    const g = graph([block("s", "start.code"), block("w", "action.wait_answer")], [edge("s", "w")]);
    expect(validateGraph(g)).toEqual([
      {
        block_id: "w",
        field: null,
        code: "code_start_waits",
        message: expect.stringContaining("started from code"),
      },
    ]);
  });

  it.each([
    [
      "a message start",
      graph([block("s", "start.message"), block("w", "action.wait_answer")], [edge("s", "w")]),
    ],
    [
      "a code start that speaks first",
      graph(
        [block("s", "start.code"), text("t"), block("w", "action.wait_answer")],
        [edge("s", "t"), edge("t", "w")],
      ),
    ],
  ])("accepts %s followed by a wait for the answer", (_, g) => {
    expect(validateGraph(g)).toEqual([]);
  });

  it("lists issues in a stable order: graph-wide, blocks, edges, structure", () => {
    const g = graph(
      [text("a"), block("a", "action.end"), block("k", "nope"), text("b"), text("c")],
      [edge("b", "c"), edge("c", "b"), edge("c", "ghost"), edge("b", "c")],
    );
    const issues = validateGraph(g);
    expect(issues.map((i) => `${i.code}:${i.block_id}:${i.field}`)).toEqual([
      "no_start:null:null",
      "duplicate_block:a:id",
      "unknown_kind:k:kind",
      "dangling_edge:c:edges[2].to",
      "duplicate_edge:c:edges[2].handle",
      "duplicate_edge:b:edges[3].handle",
      "loop_without_wait:b:null",
    ]);
    expect(validateGraph(g)).toEqual(issues);
  });

  it("validates a 500-block graph in a few milliseconds", () => {
    // A chain of texts, conditions and pickers; every picker's `other` loops back to the first one.
    const blocks: WorkflowBlock[] = [block("s", "start.message")];
    const edges: WorkflowEdge[] = [];
    let previous = { id: "s", handle: "next" };
    for (let i = 0; blocks.length < 500; i++) {
      const id = `b${i}`;
      if (i % 5 === 0) {
        blocks.push(picker(id, ["a", "b", "c"]));
        edges.push(edge(previous.id, id, previous.handle), edge(id, "b0", "other"));
        previous = { id, handle: "choice:a" };
      } else if (i % 2 === 1) {
        blocks.push(block(id, "condition.email_known"));
        edges.push(edge(previous.id, id, previous.handle), edge(id, "b0", "false"));
        previous = { id, handle: "true" };
      } else {
        blocks.push(text(id));
        edges.push(edge(previous.id, id, previous.handle));
        previous = { id, handle: "next" };
      }
    }
    const g = graph(blocks, edges);
    expect(validateGraph(g)).toEqual([]);
    let best = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 5; run++) {
      const t0 = performance.now();
      validateGraph(g);
      best = Math.min(best, performance.now() - t0);
    }
    expect(best).toBeLessThan(15);
  });

  it("reports one loop for a 500-block ring that never waits", () => {
    const blocks = [block("s", "start.code"), ...Array.from({ length: 499 }, (_, i) => text(`t${i}`))];
    const edges = [
      edge("s", "t0"),
      ...Array.from({ length: 499 }, (_, i) => edge(`t${i}`, `t${(i + 1) % 499}`)),
    ];
    const issues = validateGraph(graph(blocks, edges));
    expect(issues.map((i) => `${i.code}:${i.block_id}`)).toEqual(["loop_without_wait:t0"]);
  });
});

describe("findStart and nextBlockId", () => {
  it("finds the single start block wherever it is", () => {
    const g = graph([text("a"), block("s", "start.event", { name: "x" })]);
    expect(findStart(g)?.id).toBe("s");
  });

  it("finds no start block when there are none or several", () => {
    expect(findStart(graph([text("a")]))).toBeUndefined();
    expect(findStart(graph([block("a", "start.code"), block("b", "start.code")]))).toBeUndefined();
  });

  it("follows the first edge leaving a block by a handle", () => {
    const g = sixBlockLoop();
    expect(nextBlockId(g, "ask", "choice:yes")).toBe("ok");
    expect(nextBlockId(g, "ask", "other")).toBe("again");
    expect(nextBlockId(g, "ask", "timeout")).toBeUndefined();
    expect(nextBlockId(g, "end", "next")).toBeUndefined();
  });
});

describe("parseBlockOptions", () => {
  it("returns the options with the kind's defaults applied", () => {
    expect(parseBlockOptions(block("f", "action.field", { text: "Email?", variable: "email" }))).toEqual({
      ok: true,
      options: expect.objectContaining({ type: "text", max_attempts: 3, timeout_ms: null, explain: "" }),
    });
  });

  it("reports an unknown kind instead of options", () => {
    const result = parseBlockOptions(block("x", "nope"));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((i) => i.code)).toEqual(["unknown_kind"]);
  });
});

// ── properties ─────────────────────────────────────────────────────────────────────────────────

const SMALL_KINDS: [kind: string, options: Record<string, unknown>, handles: string[], waits: boolean][] = [
  ["action.text", { text: "hi" }, ["next"], false],
  ["condition.email_known", {}, ["true", "false"], false],
  ["action.typing", {}, ["next"], true],
  ["action.picker", { text: "?", choices: [{ value: "a", label: "A" }] }, ["choice:a", "other"], true],
];

/** Random graphs of n ≤ 8 blocks: one start at 0, then blocks of small kinds, edges on real handles. */
const randomGraph = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc
    .record({
      kinds: fc.array(fc.integer({ min: 0, max: SMALL_KINDS.length - 1 }), {
        minLength: n - 1,
        maxLength: n - 1,
      }),
      targets: fc.array(fc.integer({ min: 1, max: Math.max(1, n - 1) }), {
        minLength: 2 * n,
        maxLength: 2 * n,
      }),
      keep: fc.array(fc.boolean(), { minLength: 2 * n, maxLength: 2 * n }),
    })
    .map(({ kinds, targets, keep }) => {
      const blocks: WorkflowBlock[] = [block("n0", "start.code")];
      const handles: string[][] = [["next"]];
      const waits = [false];
      for (const [i, k] of kinds.entries()) {
        const [kind, options, h, w] = SMALL_KINDS[k]!;
        blocks.push(block(`n${i + 1}`, kind, options));
        handles.push(h);
        waits.push(w);
      }
      const edges: WorkflowEdge[] = [];
      let t = 0;
      for (let from = 0; from < n; from++) {
        for (const handle of handles[from]!) {
          const target = targets[t % targets.length]!;
          const kept = keep[t % keep.length]!;
          t++;
          if (kept && target < n) edges.push(edge(`n${from}`, `n${target}`, handle));
        }
      }
      return { g: graph(blocks, edges), waits };
    }),
);

/** The transitive closure by brute force, as an oracle for reachability and strongly connected components. */
function closure(g: WorkflowGraph): boolean[][] {
  const n = g.blocks.length;
  const at = (id: string) => Number(id.slice(1));
  const reach = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  for (const e of g.edges) reach[at(e.from)]![at(e.to)] = true;
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) if (reach[i]![k] && reach[k]![j]) reach[i]![j] = true;
  return reach;
}

describe("validateGraph properties", () => {
  it("reports unreachable blocks and non-waiting loops exactly as a brute-force oracle does", () => {
    fc.assert(
      fc.property(randomGraph, ({ g, waits }) => {
        const n = g.blocks.length;
        const reach = closure(g);
        const expectedUnreachable = g.blocks.filter((_, i) => i > 0 && !reach[0]![i]).map((b) => b.id);
        const seen = new Set<number>();
        const expectedLoops: string[] = [];
        for (let i = 0; i < n; i++) {
          if (seen.has(i)) continue;
          const component = [...Array(n).keys()].filter((j) => j === i || (reach[i]![j] && reach[j]![i]));
          for (const j of component) seen.add(j);
          const cyclic = component.length > 1 || reach[i]![i];
          if (cyclic && component.every((j) => !waits[j])) expectedLoops.push(g.blocks[i]!.id);
        }
        const issues = validateGraph(g);
        expect(issues.filter((x) => x.code === "unreachable").map((x) => x.block_id)).toEqual(
          expectedUnreachable,
        );
        expect(issues.filter((x) => x.code === "loop_without_wait").map((x) => x.block_id)).toEqual(
          expectedLoops,
        );
        expect(issues.every((x) => x.code === "unreachable" || x.code === "loop_without_wait")).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on arbitrary graphs and returns well-formed issues naming existing blocks", () => {
    const kinds = fc.constantFrom(...Object.keys(BLOCKS), "nope", "toString");
    const id = fc.constantFrom("a", "b", "c", "d", "e");
    const arbitraryGraph = fc.record({
      blocks: fc.array(
        fc.record({
          id,
          kind: kinds,
          options: fc.dictionary(fc.constantFrom("text", "choices", "x"), fc.anything()),
        }),
        { maxLength: 8 },
      ),
      edges: fc.array(
        fc.record({
          from: id,
          to: id,
          handle: fc.constantFrom("next", "true", "false", "choice:a", "other"),
        }),
        {
          maxLength: 12,
        },
      ),
    });
    fc.assert(
      fc.property(arbitraryGraph, (g) => {
        const ids = new Set<string>(g.blocks.map((b) => b.id));
        const issues = validateGraph(g);
        for (const i of issues) {
          expect(ValidationIssue.safeParse(i).success).toBe(true);
          if (i.block_id !== null) expect(ids.has(i.block_id)).toBe(true);
        }
        expect(validateGraph(g)).toEqual(issues);
      }),
      { numRuns: 300 },
    );
  });
});
