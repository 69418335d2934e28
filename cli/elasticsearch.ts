import { Client } from '@elastic/elasticsearch';
import type { Command } from 'commander';
import { Option } from 'commander';
import { installTemplates } from '../sinks/elasticsearch/writer.ts';
import { esConnection } from './ops/config.ts';

export type EsCliOptions = { es?: string; esApiKey?: string; esUser?: string; esCa?: string };

/** Connection options; secrets come from the environment so they stay out of shell history and logs. */
export function esOptions(): Option[] {
  return [
    new Option('--es <url>', 'Elasticsearch URL (also EXIT137_ES_URL)').env('EXIT137_ES_URL'),
    new Option('--es-api-key <key>', 'API key (prefer EXIT137_ES_API_KEY)').env('EXIT137_ES_API_KEY'),
    new Option('--es-user <user:password>', 'basic auth (prefer EXIT137_ES_USER)').env('EXIT137_ES_USER'),
    new Option('--es-ca <file>', 'CA certificate for TLS (also EXIT137_ES_CA)').env('EXIT137_ES_CA'),
  ];
}

export function esClient(o: EsCliOptions): Client {
  if (!o.es) throw new Error('no Elasticsearch URL: give --es or EXIT137_ES_URL');
  return new Client(esConnection({ nodes: o.es.split(',').map((u) => u.trim()), apiKey: o.esApiKey, user: o.esUser, ca: o.esCa }));
}

export function setupCommand(program: Command): void {
  const cmd = program.command('setup').description('install the index templates in Elasticsearch (idempotent); Kibana objects: sinks/kibana/exit137-saved-objects.ndjson');
  for (const o of esOptions()) cmd.addOption(o);
  cmd.action(async (o: EsCliOptions) => {
    await installTemplates(esClient(o));
    process.stdout.write(`templates installed in ${o.es!.split(",").map((u) => new URL(u.trim()).origin).join(", ")}\n`);
  });
}
