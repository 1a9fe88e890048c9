'use strict';
// librdkafka's idempotent acks=all producer (through @confluentinc/kafka-javascript) for exactly-once-tests'
// ClusterKill9Test, which kills partition leaders while this runs and then checks the log against what it printed.
//
//   node cluster-produce.js <bootstrap> <topic> <count> <partitions> [records-per-second]
//
// Sends records 0..count-1, record i to partition i % partitions with the value "librdkafka-<i>", at a steady
// pace (500 a second unless given) and with at most 500 undelivered at once. Prints one line per delivery report,
//   ACK <partition> <offset> <value>      (offset -1 when librdkafka does not know it)
//   FAIL <value> <error>
// in the order librdkafka reports them, then one line "SUMMARY {json}"; exits 1 when the producer hit a fatal
// error or did not deliver everything within its timeouts. librdkafka logs (warnings and up) go to stderr.

const Kafka = require('@confluentinc/kafka-javascript');

const [bootstrap, topic, countArg, partitionsArg, rateArg] = process.argv.slice(2);
if (!bootstrap || !topic || !countArg || !partitionsArg) {
  process.stderr.write('usage: node cluster-produce.js <bootstrap> <topic> <count> <partitions> [records-per-second]\n');
  process.exit(2);
}
const COUNT = Number(countArg);
const PARTITIONS = Number(partitionsArg);
const RATE = Number(rateArg || 500);
const MAX_IN_FLIGHT = 500;
const TICK_MS = 20;
const summary = { librdkafkaVersion: Kafka.librdkafkaVersion, sent: 0, acked: 0, failed: 0, fatal: null, errors: [] };

const producer = new Kafka.Producer({
  'bootstrap.servers': bootstrap,
  'client.id': 'weir-cluster-kill9',
  'log_level': 4,
  'acks': 'all',
  'enable.idempotence': true,
  'linger.ms': 5,
  'request.timeout.ms': 10000,
  'message.timeout.ms': 120000,
  'dr_cb': true,
});

const out = [];
function line(s) {
  out.push(s);
  if (out.length >= 200) flushOut();
}
function flushOut() {
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  out.length = 0;
}

producer.on('delivery-report', (err, report) => {
  const value = report.opaque;
  if (err) {
    summary.failed++;
    line(`FAIL ${value} ${String(err.message || err).replace(/\s+/g, '_')}`);
  } else {
    summary.acked++;
    line(`ACK ${report.partition} ${report.offset >= 0 ? report.offset : -1} ${value}`);
  }
});
producer.on('event.error', (err) => {
  if (err && err.isFatal) summary.fatal = String(err.message || err);
  process.stderr.write(`error: ${err && err.message ? err.message : err}\n`);
});
producer.on('event.log', (log) => process.stderr.write(`${log.severity} ${log.fac} ${log.message}\n`));

const call = (fn) => new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const done = () => summary.acked + summary.failed;

async function main() {
  await call((cb) => producer.connect({ timeout: 30000 }, cb));
  producer.setPollInterval(10);
  const started = Date.now();
  while (summary.sent < COUNT && !summary.fatal) {
    const due = Math.min(COUNT, Math.floor(((Date.now() - started) * RATE) / 1000) + 1);
    while (summary.sent < due && summary.sent - done() < MAX_IN_FLIGHT && !summary.fatal) {
      const i = summary.sent;
      const value = `librdkafka-${i}`;
      try {
        producer.produce(topic, i % PARTITIONS, Buffer.from(value), null, null, value);
        summary.sent++;
      } catch (e) {
        if (e && e.code === Kafka.CODES.ERRORS.ERR__QUEUE_FULL) break;
        throw e;
      }
    }
    flushOut();
    await sleep(TICK_MS);
  }
  await call((cb) => producer.flush(150000, cb));
  flushOut();
  const deadline = Date.now() + 10000; // the last delivery reports come with the next poll after flush
  while (done() < summary.sent && Date.now() < deadline) await sleep(TICK_MS);
  await call((cb) => producer.disconnect(cb));
}

main()
  .catch((e) => summary.errors.push(e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : String(e)))
  .finally(() => {
    flushOut();
    const ok = summary.errors.length === 0 && !summary.fatal && done() === COUNT;
    process.stdout.write(`SUMMARY ${JSON.stringify({ ok, ...summary })}\n`);
    process.exit(ok ? 0 : 1);
  });
