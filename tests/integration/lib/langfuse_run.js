'use strict';
// A support-agent run written with Langfuse's JS SDK v4 (@langfuse/tracing): an agent
// observation holding a retriever, a generation (model, usage, cost, messages) and a
// failing tool, with user and session ids propagated to every observation.

const {
  startActiveObservation, startObservation, propagateAttributes,
} = require('@langfuse/tracing');

const RUN = {
  sessionId: 'lf-session-2024-05',
  userId: 'lf-user-17',
  model: 'gpt-4o-mini',
  usage: { input: 42, output: 17, total: 59 },
  cost: { input: 0.0001, output: 0.0002, total: 0.0003 },
  question: 'Where is my order A-1001?',
  answer: 'Your order A-1001 shipped yesterday and arrives Friday.',
};

// Runs the observations; resolves to {traceId, ids: {agent, retriever, generation, tool}}.
// Start times are explicit and 10 ms apart: the SDK records them with millisecond
// precision, so observations started back to back could otherwise tie, and the
// tree order of tied siblings is not defined.
async function emitLangfuseRun() {
  const base = Date.now() - 1000;
  const at = (ms) => new Date(base + ms);
  return propagateAttributes({ userId: RUN.userId, sessionId: RUN.sessionId }, () =>
    startActiveObservation('support-agent', async (agent) => {
      agent.update({ input: { question: RUN.question } });
      agent.updateTrace({ name: 'support-run', tags: ['integration'] });

      const retriever = startObservation('lookup-orders', { input: { query: 'A-1001' } },
        { asType: 'retriever', startTime: at(10) });
      retriever.update({ output: { orders: [{ id: 'A-1001', status: 'shipped' }] } });
      retriever.end();

      const generation = startObservation('answer-generation', {
        model: RUN.model,
        modelParameters: { temperature: 0.2 },
        input: [
          { role: 'system', content: 'You are a helpful support agent.' },
          { role: 'user', content: RUN.question },
        ],
      }, { asType: 'generation', startTime: at(20) });
      generation.update({
        output: { role: 'assistant', content: RUN.answer },
        usageDetails: RUN.usage,
        costDetails: RUN.cost,
      });
      generation.end();

      const tool = startObservation('issue-refund', { input: { order: 'A-1001' } }, { asType: 'tool', startTime: at(30) });
      tool.update({ level: 'ERROR', statusMessage: 'refund service unavailable' });
      tool.end();

      agent.update({ output: { answer: RUN.answer } });
      return {
        traceId: agent.traceId,
        ids: {
          agent: agent.id,
          retriever: retriever.id,
          generation: generation.id,
          tool: tool.id,
        },
      };
    }, { asType: 'agent', startTime: at(0) }));
}

module.exports = { emitLangfuseRun, RUN };
