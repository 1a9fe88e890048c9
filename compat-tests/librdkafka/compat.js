'use strict';
// Drives a current librdkafka (the one inside @confluentinc/kafka-javascript) against a broker and prints one
// JSON summary line on stdout; exits 1 when any step failed or returned what a Kafka broker would not.
//
//   node compat.js <bootstrap> [records-per-codec]
//
// Steps, each recorded in the summary (a failing step does not stop the others):
//   admin      create topics (3 partitions), describe them, list topics (an all-topics metadata request)
//   metadata   all-topics metadata through a producer handle
//   produce    N keyed records per codec (gzip, snappy, lz4, zstd) with enable.idempotence=true
//   consume    one consumer group reads all of them back (keys, values, per-partition order), commits
//              explicitly; the admin API then fetches the committed offsets and lists/describes the group
//   regex      a consumer subscribed to ^rx-.* gets the records of two matching topics, not of a third
//   admin-offsets-and-deletes  list offsets (high watermarks), delete the consumer group, delete a topic
// librdkafka logs (warnings and up) go to stderr.

const { KafkaJS, librdkafkaVersion } = require('@confluentinc/kafka-javascript');

const bootstrap = process.argv[2];
const perCodec = Number(process.argv[3] || 200);
if (!bootstrap) {
  process.stderr.write('usage: node compat.js <bootstrap> [records-per-codec]\n');
  process.exit(2);
}
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'];
const PARTITIONS = 3;
const STEP_TIMEOUT_MS = 45000;
const run = Date.now().toString(36);

const summary = { librdkafkaVersion, bootstrap, perCodec, ok: true, steps: {} };
const base = { 'bootstrap.servers': bootstrap, 'client.id': 'weir-compat', 'log_level': 4 };
const kafka = new KafkaJS.Kafka({});

const MAX_ERRORS_PER_STEP = 5;

function fail(step, message) {
  summary.ok = false;
  const s = (summary.steps[step] ||= {});
  s.errorCount = (s.errorCount || 0) + 1;
  if (s.errorCount <= MAX_ERRORS_PER_STEP) (s.errors ||= []).push(String(message));
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function step(name, fn) {
  const started = Date.now();
  summary.steps[name] ||= {};
  try {
    await withTimeout(fn(summary.steps[name]), name);
  } catch (e) {
    fail(name, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e);
  }
  summary.steps[name].ms = Date.now() - started;
  summary.steps[name].ok = !summary.steps[name].errors;
}

function expect(stepName, cond, message) {
  if (!cond) fail(stepName, message);
}

const codecTopic = (codec) => `lrk-${codec}-${run}`;
const rxTopics = [`rx-a-${run}`, `rx-b-${run}`];
const otherTopic = `other-${run}`;
const allTopics = [...CODECS.map(codecTopic), ...rxTopics, otherTopic];

async function main() {
  const admin = kafka.admin({ ...base });
  await admin.connect();
  try {
    await step('admin', async (s) => {
      const created = await admin.createTopics({
        topics: allTopics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
      });
      s.created = created;
      expect('admin', created === true, `createTopics answered ${created}, expected true`);
      const described = await admin.fetchTopicMetadata({ topics: allTopics });
      s.described = described.map((t) => ({ name: t.name, partitions: t.partitions.length,
        leaders: [...new Set(t.partitions.map((p) => p.leader))] }));
      for (const t of described) {
        expect('admin', t.partitions.length === PARTITIONS, `${t.name}: ${t.partitions.length} partitions`);
        expect('admin', t.partitions.every((p) => p.leader >= 0 && p.isr.length === 1),
          `${t.name}: a partition without a leader or ISR`);
      }
      const listed = await admin.listTopics();
      s.listedOurs = allTopics.filter((t) => listed.includes(t)).length;
      expect('admin', s.listedOurs === allTopics.length, `listTopics missed some of ${allTopics}: ${listed}`);
    });

    await step('metadata', async (s) => {
      const producer = new (require('@confluentinc/kafka-javascript').Producer)({ ...base });
      await new Promise((resolve, reject) => {
        producer.connect({ timeout: 10000 }, (err) => (err ? reject(err) : resolve()));
      });
      try {
        const md = await new Promise((resolve, reject) => {
          producer.getMetadata({ allTopics: true, timeout: 10000 }, (err, m) => (err ? reject(err) : resolve(m)));
        });
        s.brokers = md.brokers.length;
        s.topicsSeen = allTopics.filter((t) => md.topics.some((mt) => mt.name === t)).length;
        expect('metadata', md.brokers.length >= 1, 'no brokers in all-topics metadata');
        expect('metadata', s.topicsSeen === allTopics.length, 'all-topics metadata misses created topics');
      } finally {
        await new Promise((resolve) => producer.disconnect(resolve));
      }
    });

    const sent = new Map(); // topic -> [key, value] in send order
    for (const codec of CODECS) {
      await step(`produce-${codec}`, async (s) => {
        const topic = codecTopic(codec);
        const producer = kafka.producer({ ...base, 'enable.idempotence': true, 'compression.type': codec,
          'linger.ms': 5 });
        await producer.connect();
        try {
          const messages = [];
          for (let i = 0; i < perCodec; i++) {
            // long repetitive values, so every codec really compresses
            messages.push({ key: `k${i}`, value: `${codec} value ${i} `.repeat(8) });
          }
          // send() turns the values into Buffers in place: keep the strings apart
          sent.set(topic, messages.map((m) => ({ key: m.key, value: m.value })));
          const acks = await producer.send({ topic, messages });
          // send() resolves once every record's delivery report came back without error; one ack per partition
          s.delivered = messages.length;
          s.partitions = acks.length;
          expect(`produce-${codec}`, acks.every((a) => a.errorCode === 0), `error acks: ${JSON.stringify(acks)}`);
        } finally {
          await producer.disconnect();
        }
      });
    }
    for (const topic of rxTopics.concat(otherTopic)) {
      const producer = kafka.producer({ ...base, 'enable.idempotence': true });
      await producer.connect();
      await producer.send({ topic, messages: [0, 1, 2].map((i) => ({ key: `k${i}`, value: `${topic}/${i}` })) });
      await producer.disconnect();
    }

    const groupId = `lrk-group-${run}`;
    await step('consume', async (s) => {
      const topics = CODECS.map(codecTopic).filter((t) => sent.has(t));
      const expected = topics.reduce((n, t) => n + sent.get(t).length, 0);
      const got = await consumeUntil({ 'group.id': groupId }, topics, expected, true);
      s.expected = expected;
      s.received = got.length;
      for (const topic of topics) {
        const mine = got.filter((m) => m.topic === topic);
        const want = new Map(sent.get(topic).map((m) => [m.key, m.value]));
        for (const m of mine) {
          if (want.get(m.key) !== m.value) fail('consume', `${topic}: ${m.key} has ${m.value}`);
          want.delete(m.key);
        }
        expect('consume', want.size === 0, `${topic}: ${want.size} records never arrived`);
        for (let p = 0; p < PARTITIONS; p++) {
          const offsets = mine.filter((m) => m.partition === p).map((m) => Number(m.offset));
          expect('consume', offsets.every((o, i) => o === i), `${topic}[${p}] offsets out of order: ${offsets}`);
        }
      }
      const committed = await admin.fetchOffsets({ groupId, topics });
      let committedTotal = 0;
      for (const t of committed) {
        for (const p of t.partitions) committedTotal += Math.max(0, Number(p.offset));
      }
      s.committed = committedTotal;
      expect('consume', committedTotal === expected, `committed offsets sum to ${committedTotal}, want ${expected}`);
      const listed = await admin.listGroups();
      s.groupListed = listed.groups.some((g) => g.groupId === groupId);
      expect('consume', s.groupListed, `listGroups misses ${groupId}`);
      const described = await admin.describeGroups([groupId]);
      s.groupState = described.groups[0] && described.groups[0].state;
      expect('consume', described.groups.length === 1 && !described.groups[0].error,
        `describeGroups: ${JSON.stringify(described.groups[0] && described.groups[0].error)}`);
    });

    await step('regex', async (s) => {
      const got = await consumeUntil({ 'group.id': `lrk-rx-${run}` }, [new RegExp(`^rx-.*-${run}$`)], 6, false);
      s.topics = [...new Set(got.map((m) => m.topic))].sort();
      s.received = got.length;
      expect('regex', JSON.stringify(s.topics) === JSON.stringify([...rxTopics].sort()),
        `regex subscription got topics ${s.topics}`);
      expect('regex', got.length === 6, `regex subscription got ${got.length} records, want 6`);
    });

    await step('admin-offsets-and-deletes', async (s) => {
      const offsets = await admin.fetchTopicOffsets(codecTopic('lz4'));
      s.highWatermarks = offsets.reduce((n, p) => n + Number(p.high), 0);
      expect('admin-offsets-and-deletes', s.highWatermarks === perCodec,
        `fetchTopicOffsets: high watermarks sum to ${s.highWatermarks}, want ${perCodec}`);
      const groups = await admin.deleteGroups([groupId]);
      expect('admin-offsets-and-deletes', groups.length === 1 && !groups[0].error,
        `deleteGroups: ${JSON.stringify(groups)}`);
      await admin.deleteTopics({ topics: [otherTopic] });
      const listed = await admin.listTopics();
      s.deletedTopicGone = !listed.includes(otherTopic);
      expect('admin-offsets-and-deletes', s.deletedTopicGone, `${otherTopic} still listed after deleteTopics`);
    });
  } finally {
    await admin.disconnect();
  }
}

/** Subscribes in a group, collects `count` records (a few extra ms for strays), commits what it read. */
async function consumeUntil(config, topics, count, commit) {
  const consumer = kafka.consumer({ ...base, ...config, 'auto.offset.reset': 'earliest',
    'enable.auto.commit': false, 'topic.metadata.refresh.interval.ms': 1000 });
  await consumer.connect();
  const got = [];
  try {
    await consumer.subscribe({ topics });
    await new Promise((resolve, reject) => {
      consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          got.push({ topic, partition, offset: message.offset, key: message.key && message.key.toString(),
            value: message.value && message.value.toString() });
          if (got.length >= count) resolve();
        },
      }).catch(reject);
    });
    if (commit) {
      const next = new Map();
      for (const m of got) {
        const k = `${m.topic}\u0000${m.partition}`;
        next.set(k, Math.max(next.get(k) || 0, Number(m.offset) + 1));
      }
      await consumer.commitOffsets([...next].map(([k, offset]) => {
        const [topic, partition] = k.split('\u0000');
        return { topic, partition: Number(partition), offset: String(offset) };
      }));
    }
  } finally {
    await consumer.disconnect();
  }
  return got;
}

main()
  .catch((e) => fail('main', e && e.stack ? e.stack : e))
  .finally(() => {
    process.stdout.write(JSON.stringify(summary) + '\n');
    process.exit(summary.ok ? 0 : 1);
  });
