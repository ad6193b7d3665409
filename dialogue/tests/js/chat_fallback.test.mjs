import assert from "node:assert/strict";
import { test } from "node:test";

import { doneActions, fromRest } from "../../static/dialogue/chat/fallback.js";

test("a REST history message keeps its sources' titles and its author", () => {
  const message = fromRest({
    id: 7,
    role: "agent",
    content: "您好",
    created_at: "2026-12-08T09:00:00+08:00",
    reply_to: null,
    citations: [3],
    sources: [{ id: 3, title: "退款多久到账？" }],
    low_confidence: false,
    kb_only: false,
    error_type: "",
    thumbs_up: null,
    rating: null,
    author: { id: 2, name: "小王", initial: "小" },
  });
  assert.deepEqual(message.sources, [{ id: 3, title: "退款多久到账？" }]);
  assert.deepEqual(message.author, { id: 2, name: "小王", initial: "小" });
  assert.equal(message.client_message_id, "");
});

test("a finished stream becomes the question and its answer", () => {
  const actions = doneActions(
    {
      message: 10,
      answer: 11,
      text: "1-3 个工作日 [1]",
      sources: [{ id: 3, title: "退款多久到账？" }],
      low_confidence: false,
      kb_only: false,
      error_type: "",
      session: 5,
      session_status: "active",
    },
    { clientId: "c-1", content: "退款多久到账" },
  );
  const [question, done] = actions;
  assert.deepEqual([question.type, question.message.id, question.clientMessageId], [
    "message",
    10,
    "c-1",
  ]);
  assert.equal(done.type, "done");
  assert.deepEqual([done.message.id, done.message.reply_to, done.replyTo], [11, 10, 10]);
  assert.deepEqual(done.message.sources, [{ id: 3, title: "退款多久到账？" }]);
  assert.equal(done.sessionStatus, "active");
});
