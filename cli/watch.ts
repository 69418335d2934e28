import { createWriteStream, mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option } from 'commander';
import type { Command } from 'commander';
import { LocalCorrelator } from '../correlate/watch/engine.ts';
import { WatchState } from '../correlate/watch/state.ts';
import { Attribution } from '../correlate/verdict.ts';
import { collectInto } from '../ingest/collectors/run.ts';
import { Decoder } from '../ingest/decoder.ts';
import type { FollowSink } from '../ingest/follow-run.ts';
import { commandInto, followInto } from '../ingest/follow-run.ts';
import { bootTime, journalAvailable, readableFile } from '../ingest/node/gather.ts';
import { containerdEvents, resumableDockerEvents, resumableJournal } from '../ingest/sources/commands.ts';
import { resumableDmesg } from '../ingest/sources/dmesg.ts';
import type { FollowPosition } from '../ingest/sources/follow.ts';
import { FileLedger } from '../sinks/slack/file-ledger.ts';
import { alertMessage, digestMessage } from '../sinks/slack/message.ts';
import { planAlerts } from '../sinks/slack/plan.ts';
import { WebhookSender } from '../sinks/slack/webhook.ts';
import type { NodeCliOptions } from './node.ts';
import { nodeSourceOptions } from './node.ts';
import { workerEnv } from './ops/config.ts';
import { decoderOptions, ingestOptions } from './options.ts';
import { drained } from './output.ts';

type WatchOptions = NodeCliOptions & { json?: boolean; all?: boolean; ctrEvents: boolean; collect: boolean; collectInterval: string };

/**
 * `exit137 watch`: one node, live, no services. Follows the node's sources, attributes each death
 * when its settle window closes, prints one line per verdict and alerts Slack. What must survive a
 * restart or a kill -9 lives in one state file (correlate/watch/state.ts); a verdict is written
 * down there as decided, with its line and its Slack message still to go, before either goes.
 */
export function watchCommand(program: Command): void {
  const cmd = program
    .command('watch')
    .description('follow this node live: print each container death’s verdict when its settle window closes, alert Slack when EXIT137_SLACK_WEBHOOK_URL is set; state in EXIT137_STATE_DIR, no services')
    .argument('[files...]', 'more log files to follow across rotation (a daemon’s own log)')
    .option('--json', 'one verdict per line as NDJSON')
    .option('--all', 'also print normal exits (always in --json)')
    .option('--no-ctr-events', 'do not follow containerd’s events (--containerd-address; not replayable: missed while watch is down)')
    .option('--no-collect', 'do not sample blocked tasks and memory cgroups')
    .option('--collect-interval <seconds>', 'seconds between samples', '30');
  for (const o of ingestOptions()) cmd.addOption(o);
  for (const o of nodeSourceOptions()) cmd.addOption(o);
  cmd.action(async (files: string[], o: WatchOptions) => {
    const config = workerEnv();
    const host = o.host ?? config.EXIT137_NODE_NAME;
    const dir = config.EXIT137_STATE_DIR;
    mkdirSync(dir, { recursive: true });
    const say = (m: string) => process.stderr.write(`exit137 watch: ${m}\n`);
    const state = await WatchState.load(dir);
    const correlator = new LocalCorrelator(config.EXIT137_SETTLE_MS, state.correlator);
    const snapshot = () => correlator.state();
    const ac = new AbortController();
    const signal = ac.signal;

    // every change that spans an await (decide → write down → print/send) runs alone
    let chain: Promise<unknown> = Promise.resolve();
    const locked = <T>(fn: () => Promise<T>): Promise<T> => {
      const r = chain.then(fn);
      chain = r.catch(() => {});
      return r;
    };

    const deadLetters = createWriteStream(o.deadLetter ?? join(dir, 'dead-letters.ndjson'), { flags: 'a' });
    let undecodable = 0;
    const sink: FollowSink = {
      event: (e) => {
        if (correlator.add(e)) state.touch();
      },
      deadLetter: (d) => {
        undecodable++;
        deadLetters.write(`${JSON.stringify(d)}\n`);
      },
      backlogged: false,
      // events are in the correlator as soon as they are handed over; the state file takes them
      // with the positions, in one snapshot
      durable: async () => {},
    };
    const decoder = new Decoder(sink.event, sink.deadLetter, { ...decoderOptions(o), host, bootNs: o.bootTime ?? bootTime() });

    // --- the sources, each restarted after a failure (a daemon restarting ends its event stream) ---
    const runs: Promise<void>[] = [];
    const supervise = (name: string, run: () => Promise<void>) => {
      runs.push(
        (async () => {
          let last = '';
          for (let attempt = 0; !signal.aborted; attempt++) {
            try {
              await run();
              if (signal.aborted) return;
              last = 'ended';
            } catch (e) {
              if (signal.aborted) return;
              const m = (e as Error).message.split('\n')[0]!;
              if (m !== last) say(`source ${name}: ${m}; retrying`);
              last = m;
            }
            await sleep(Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)), undefined, { signal }).catch(() => {});
          }
        })(),
      );
    };
    const follow = async (name: string, path: string, format?: NodeCliOptions['format']) => {
      const f = await readableFile(path);
      if (!f.ok && !f.absent) return say(`source ${name}: not followed: ${f.why}`);
      const positions = state.positions<FollowPosition>(`file:${path}`);
      if (!(await positions.load())) {
        // the first start watches from now: what the file held before is `analyze`'s
        const st = await stat(path).catch(() => undefined);
        if (st) await positions.save({ path, inode: st.ino, offset: st.size });
      }
      say(`source ${name}: following ${path}${f.ok ? '' : ' (not there yet)'}`);
      supervise(name, () => followInto(decoder, path, { id: path, path, host, ...(format ? { format } : {}) }, sink, { positions, signal }));
    };

    await follow('audit', o.auditLog, 'audit');
    const journal = o.journal ? await journalAvailable() : { ok: false as const, why: 'turned off (--no-journal)', absent: true };
    if (journal.ok) {
      say('source journal: following the whole journal (the engines, the kubelet, the kernel, audit)');
      supervise('journal', () => commandInto(decoder, resumableJournal([]), sink, { positions: state.positions<string>('journal'), signal }));
    } else {
      say(`source journal: not followed: ${journal.why}`);
      for (const p of o.syslog) if ((await readableFile(p)).ok) await follow('syslog', p);
      if (o.dmesg) {
        say('source dmesg: following the kernel ring buffer');
        supervise('dmesg', () => commandInto(decoder, resumableDmesg(), sink, { positions: state.positions<string>('dmesg'), signal }));
      }
    }
    for (const f of files) await follow('file', resolve(f));
    if (o.docker) {
      say(`source docker events: following ${o.dockerHost}`);
      supervise('docker events', () => commandInto(decoder, resumableDockerEvents(o.dockerHost), sink, { positions: state.positions<string>(`docker-events ${o.dockerHost}`), signal }));
    }
    if (o.ctrEvents && (await stat(o.containerdAddress).then((s) => s.isSocket(), () => false))) {
      say(`source ctr events: following ${o.containerdAddress} (not replayable: missed while watch is down)`);
      supervise('ctr events', () => commandInto(decoder, containerdEvents(o.containerdAddress), sink, { signal }));
    } else if (o.ctrEvents) say(`source ctr events: not followed: no containerd socket at ${o.containerdAddress}`);
    if (o.collect) {
      say(`source node state: blocked tasks and memory cgroups every ${o.collectInterval} s`);
      supervise('node state', () => collectInto(sink, { intervalSeconds: Number(o.collectInterval), thresholdSeconds: 30, procRoot: o.procRoot, cgroupRoot: o.cgroupRoot, host }, signal));
    }

    // --- verdicts: decided and written down, then printed, then sent ---
    const url = config.EXIT137_SLACK_WEBHOOK_URL;
    const sender = url ? new WebhookSender(url) : undefined;
    const ledger = new FileLedger(state);
    const messageOpts = config.EXIT137_KIBANA_URL ? { kibanaUrl: config.EXIT137_KIBANA_URL } : {};
    let printed = 0;
    const tick = () =>
      locked(async () => {
        const verdicts = correlator.due();
        if (verdicts.length) {
          for (const v of verdicts) if (o.json || o.all || v.cause !== 'normal-exit') state.pending.prints.push({ incident: v.incident_id, line: o.json ? JSON.stringify(Attribution.parse(v)) : verdictLine(v) });
          if (sender) {
            for (const p of await planAlerts(verdicts, ledger)) {
              const id = p.kind === 'alert' ? p.verdict.incident_id : `digest-${p.verdicts.map((v) => v.incident_id).sort().join(',')}`;
              state.pending.slack.push({ id, message: p.kind === 'alert' ? alertMessage(p.verdict, messageOpts) : digestMessage(p.verdicts, p.scope) });
            }
          }
          await state.flush(snapshot, true);
        }
        if (state.pending.prints.length) {
          for (const p of state.pending.prints) process.stdout.write(`${p.line}\n`);
          printed += state.pending.prints.length;
          state.pending.prints.length = 0;
          await drained(process.stdout);
          await state.flush(snapshot, true);
        } else await state.flush(snapshot);
      });
    const ticker = setInterval(() => void tick().catch((e: Error) => say(`could not write the state: ${e.message}`)), 500);

    const delivering = (async () => {
      if (!sender) return;
      while (!signal.aborted) {
        const item = state.pending.slack[0];
        if (!item) {
          await sleep(250, undefined, { signal }).catch(() => {});
          continue;
        }
        try {
          await sender.send(item.message, signal);
        } catch {
          return; // stopped: the message stays in the state file and goes at the next start
        }
        await locked(async () => {
          if (state.pending.slack[0]?.id === item.id) state.pending.slack.shift();
          await state.flush(snapshot, true);
        });
      }
    })();
    say(`watching as ${host}; state in ${state.path}; settle ${config.EXIT137_SETTLE_MS} ms; Slack ${sender ? 'on' : 'off (EXIT137_SLACK_WEBHOOK_URL not set)'}`);

    await new Promise<void>((r) => {
      process.once('SIGINT', () => r());
      process.once('SIGTERM', () => r());
    });
    ac.abort();
    clearInterval(ticker);
    await Promise.race([Promise.all(runs), sleep(5000)]);
    await delivering;
    // what was read is written down; windows still open are closed at the next start
    await locked(() => state.flush(snapshot, true));
    deadLetters.end();
    say(`stopped: ${printed} verdicts printed, ${sender ? `${sender.stats.sent} Slack messages sent, ${state.pending.slack.length} still to send, ` : ''}${correlator.open} windows open, ${undecodable} undecodable lines`);
    process.exit(0);
  });
}

function verdictLine(v: Attribution): string {
  const who = `${v.container.id.slice(0, 12)}${v.container.name && v.container.name !== v.container.id ? ` (${v.container.name})` : ''}`;
  return `${v.died_at.slice(0, 23).replace('T', ' ')}  ${v.host}  ${who}  exit ${v.exit_code ?? '?'}  ${v.cause}${v.sub_cause ? ` (${v.sub_cause})` : ''}  ${v.confidence.toFixed(2)}  ${v.headline}`;
}
