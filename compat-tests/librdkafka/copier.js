'use strict';
// The read-process-write copier of Kafka's transactions system test, with librdkafka's transactional producer
// (through @confluentinc/kafka-javascript's librdkafka bindings): prints one JSON summary line on stdout and
// exits 1 when a step failed.
//
//   node copier.js <bootstrap> <input-topic> <output-topic> <records> [seed]
//
// The topics exist (4 partitions each) and the input holds <records> records whose values are their numbers.
// The copier reads the input read_committed, writes each record to the same partition of the output as
// "<transaction>:<value>" in transactions of up to 750 records with the consumer's positions
// (sendOffsetsToTransaction), and aborts about a third of them at random (seeded), rewinding the input to the
// last committed positions. A read_committed watcher reads the output meanwhile. The summary lists the aborted
// transactions, the group, and what the watcher saw of aborted transactions; the Java test then reads the
// output and checks it. librdkafka logs (warnings and up) go to stderr.

const Kafka = require('@confluentinc/kafka-javascript');

const [bootstrap, input, output, recordsArg, seedArg] = process.argv.slice(2);
if (!bootstrap || !input || !output || !recordsArg) {
  process.stderr.write('usage: node copier.js <bootstrap> <input-topic> <output-topic> <records> [seed]\n');
  process.exit(2);
}
const RECORDS = Number(recordsArg);
const PARTITIONS = 4;
const TRANSACTION_RECORDS = 750;
const TIMEOUT_MS = 30000;
const DEADLINE = Date.now() + 150000;
const group = `lrk-copier-${Date.now().toString(36)}`;
const base = { 'bootstrap.servers': bootstrap, 'client.id': 'weir-copier', 'log_level': 4 };
const summary = { librdkafkaVersion: Kafka.librdkafkaVersion, ok: true, group, records: RECORDS,
  transactions: 0, committed: 0, aborted: [], copied: 0, watcherSeen: 0, watcherAbortedSeen: [], errors: [] };

// a small seeded generator (mulberry32), so a failing run can be replayed
let state = Number(seedArg || 20261128) >>> 0;
function random() {
  state = (state + 0x6D2B79F5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const call = (fn) => new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

function consumer(config) {
  const c = new Kafka.KafkaConsumer({ ...base, 'enable.auto.commit': false, 'isolation.level': 'read_committed',
    ...config }, { 'auto.offset.reset': 'earliest' });
  c.setDefaultConsumeTimeout(200);
  return c;
}

const assignment = (topic, offsets) => offsets.map((offset, partition) => ({ topic, partition, offset }));

async function watch(stop) {
  const w = consumer({ 'group.id': `${group}-watcher` });
  await call((cb) => w.connect({ timeout: TIMEOUT_MS }, cb));
  try {
    w.assign(assignment(output, new Array(PARTITIONS).fill(0)));
    while (!stop.done) {
      const messages = await call((cb) => w.consume(500, cb));
      for (const m of messages) {
        summary.watcherSeen++;
        stop.seen.push(m.value.toString());
      }
    }
  } finally {
    await call((cb) => w.disconnect(cb));
  }
}

async function main() {
  const aborted = new Set();
  const stop = { done: false, seen: [] };
  const watcher = watch(stop);

  const producer = new Kafka.Producer({ ...base, 'transactional.id': `${group}-txn`, 'linger.ms': 5,
    'transaction.timeout.ms': 60000 });
  await call((cb) => producer.connect({ timeout: TIMEOUT_MS }, cb));
  const c = consumer({ 'group.id': group });
  await call((cb) => c.connect({ timeout: TIMEOUT_MS }, cb));
  try {
    await call((cb) => producer.initTransactions(TIMEOUT_MS, cb));
    let committed = new Array(PARTITIONS).fill(0);
    c.assign(assignment(input, committed));
    while (summary.copied < RECORDS) {
      if (Date.now() > DEADLINE) throw new Error(`the copier stalled at ${summary.copied}`);
      const txn = summary.transactions++;
      const next = committed.slice();
      await call((cb) => producer.beginTransaction(cb));
      let inTxn = 0;
      while (inTxn < TRANSACTION_RECORDS && summary.copied + inTxn < RECORDS) {
        if (Date.now() > DEADLINE) throw new Error(`the copier stalled at ${summary.copied + inTxn}`);
        const messages = await call((cb) => c.consume(TRANSACTION_RECORDS - inTxn, cb));
        for (const m of messages) {
          producer.produce(output, m.partition, Buffer.from(`${txn}:${m.value.toString()}`), null);
          next[m.partition] = m.offset + 1;
          inTxn++;
        }
      }
      await call((cb) => producer.sendOffsetsToTransaction(assignment(input, next), c, TIMEOUT_MS, cb));
      if (random() < 1 / 3) {
        await call((cb) => producer.flush(TIMEOUT_MS, cb)); // the aborted copies reach the log
        aborted.add(txn);
        summary.aborted.push(txn);
        await call((cb) => producer.abortTransaction(TIMEOUT_MS, cb));
        c.unassign();
        c.assign(assignment(input, committed)); // rewind to the last committed positions
      } else {
        await call((cb) => producer.commitTransaction(TIMEOUT_MS, cb));
        summary.committed++;
        committed = next;
        summary.copied += inTxn;
      }
    }
    summary.committedOffsets = committed;
  } finally {
    stop.done = true;
    await watcher.catch((e) => summary.errors.push(`watcher: ${e && e.stack ? e.stack : e}`));
    await call((cb) => c.disconnect(cb));
    await call((cb) => producer.disconnect(cb));
  }
  // checked at the end: the watcher may see a record before the copier decides to abort its transaction
  // (it must not: read_committed shows only committed transactions)
  for (const v of stop.seen) {
    if (aborted.has(Number(v.split(':')[0])) && summary.watcherAbortedSeen.length < 10) summary.watcherAbortedSeen.push(v);
  }
}

main()
  .catch((e) => summary.errors.push(e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : String(e)))
  .finally(() => {
    summary.ok = summary.errors.length === 0 && summary.watcherAbortedSeen.length === 0;
    process.stdout.write(JSON.stringify(summary) + '\n');
    process.exit(summary.ok ? 0 : 1);
  });
