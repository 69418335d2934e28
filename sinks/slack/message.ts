import type { KnownBlock } from '@slack/types';
import type { Attribution } from '../../correlate/verdict.ts';
import { CAUSE_WORDS } from '../../correlate/verdict.ts';
import { codeSlack, escapeSlack, plainSlack } from './escape.ts';

/** A Slack message: `text` is the notification fallback, `blocks` the layout (Block Kit). */
export type SlackMessage = { text: string; blocks: KnownBlock[]; unfurl_links: false; unfurl_media: false };

export type MessageOptions = { kibanaUrl?: string };


function who(v: Attribution): string {
  return v.container.pod ? `${v.container.namespace ? `${v.container.namespace}/` : ''}${v.container.pod}` : v.container.name ?? v.container.id.slice(0, 12);
}

/** Kibana Discover on the events of this container (by id prefix), around the death. */
export function timelineUrl(base: string, v: Attribution): string {
  const q = encodeURIComponent(`container.id:${v.container.id.slice(0, 12)}* OR exit137.related_ids:${v.container.id.slice(0, 12)}*`);
  return `${base.replace(/\/$/, '')}/app/discover#/?_a=(query:(language:lucene,query:'${q}'))&_g=(time:(from:'${v.died_at}||-15m',to:'${v.died_at}||+5m'))`;
}

export function alertMessage(v: Attribution, opts: MessageOptions = {}): SlackMessage {
  const header = plainSlack(`exit ${v.exit_code ?? '?'} · ${who(v)}`, 140);
  const fields = [
    `*Cause*\n${escapeSlack(CAUSE_WORDS[v.cause] ?? v.cause)}${v.sub_cause ? ` (${escapeSlack(v.sub_cause)})` : ''}`,
    `*Confidence*\n${v.confidence.toFixed(2)}`,
    `*Node*\n${escapeSlack(v.host)}`,
    `*Container*\n${codeSlack(v.container.id.slice(0, 12))}${v.container.name ? ` ${escapeSlack(v.container.name)}` : ''}`,
    `*Died*\n${v.died_at.slice(0, 23).replace('T', ' ')} UTC`,
  ];
  if (v.killer) fields.push(`*Killer*\n${codeSlack(`${v.killer.executable ?? v.killer.name ?? '?'} [${v.killer.pid ?? '?'}]${v.killer.auid ? ` login uid ${v.killer.auid}` : ''}`)}`);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(v.headline, 1000) } },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  const top = v.evidence.filter((e) => e.role).slice(0, 4);
  if (top.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: top.map((e) => `• ${e.ts.slice(11, 23)} ${codeSlack(e.summary, 180)}`).join('\n') } });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Remedy* ${escapeSlack(v.remedy, 1500)}` } });
  const ctx = [`incident ${v.incident_id}`, `v${v.version}`];
  if (opts.kibanaUrl) ctx.push(`<${timelineUrl(opts.kibanaUrl, v)}|Open the timeline in Kibana>`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: ctx.map((c, i) => (i === 2 ? c : escapeSlack(c))).join(' · ') }] });
  return { text: escapeSlack(`exit ${v.exit_code ?? '?'}: ${who(v)} on ${v.host}: ${v.headline}`, 3000), blocks, unfurl_links: false, unfurl_media: false };
}

/** One message for a storm: many deaths of one cause on one node (or fleet-wide) within a window. */
export function digestMessage(verdicts: Attribution[], scope: string): SlackMessage {
  const cause = verdicts[0]!.cause;
  const hosts = [...new Set(verdicts.map((v) => v.host))];
  const first = verdicts.map((v) => v.died_at).sort()[0]!;
  const last = verdicts.map((v) => v.died_at).sort().at(-1)!;
  const sample = verdicts.slice(0, 8).map((v) => `• ${escapeSlack(v.host)} ${codeSlack(v.container.name ?? v.container.id.slice(0, 12))} ${escapeSlack(v.headline, 160)}`);
  const text = `${verdicts.length} containers died of ${CAUSE_WORDS[cause as Attribution['cause']] ?? cause} (${scope === 'fleet' ? `${hosts.length} nodes` : escapeSlack(scope)}) between ${first.slice(11, 19)} and ${last.slice(11, 19)} UTC`;
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: plainSlack(`${verdicts.length} × exit 137 · ${cause}`, 140), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'section', text: { type: 'mrkdwn', text: `${sample.join('\n')}${verdicts.length > 8 ? `\n… and ${verdicts.length - 8} more` : ''}` } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Remedy* ${escapeSlack(verdicts[0]!.remedy, 1500)}` } },
    ],
    unfurl_links: false,
    unfurl_media: false,
  };
}
