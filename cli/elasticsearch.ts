import { Client } from '@elastic/elasticsearch';
import type { Command } from 'commander';
import { installTemplates } from '../sinks/elasticsearch/writer.ts';
import { esConnection, eventsRefresh } from './ops/config.ts';

import type { EsCliOptions } from './options.ts';
import { esOptions } from './options.ts';

export type { EsCliOptions };
export { esOptions };

export function esClient(o: EsCliOptions): Client {
  if (!o.es) throw new Error('no Elasticsearch URL: give --es or EXIT137_ES_URL');
  return new Client(esConnection({ nodes: o.es.split(',').map((u) => u.trim()), apiKey: o.esApiKey, user: o.esUser, ca: o.esCa }));
}

export function setupCommand(program: Command): void {
  const cmd = program.command('setup').description('install the index templates in Elasticsearch (idempotent); Kibana objects: sinks/kibana/exit137-saved-objects.ndjson');
  for (const o of esOptions()) cmd.addOption(o);
  cmd.action(async (o: EsCliOptions) => {
    await installTemplates(esClient(o), eventsRefresh());
    process.stdout.write(`templates installed in ${o.es!.split(",").map((u) => new URL(u.trim()).origin).join(", ")}\n`);
  });
}
