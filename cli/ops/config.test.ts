import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { esClientOptions, eventsRefresh, redacted, redisOptions, workerEnv } from './config.ts';

describe('worker configuration from the environment', () => {
  it('reads Redis and Elasticsearch settings, several ES nodes and TLS', () => {
    const c = workerEnv({ EXIT137_REDIS_URL: 'rediss://:s3cret@redis.internal:6380/2', EXIT137_ES_URL: 'https://es1:9200, https://es2:9200', EXIT137_ES_API_KEY: 'a2V5', EXIT137_SETTLE_MS: '5000' });
    const r = redisOptions(c);
    assert.equal(r.host, 'redis.internal');
    assert.equal(r.port, 6380);
    assert.equal(r.db, 2);
    assert.equal(r.password, 's3cret');
    assert.deepEqual(r.tls, {});
    assert.equal(r.maxRetriesPerRequest, null);
    const es = esClientOptions(c)!;
    assert.deepEqual(es.nodes, ['https://es1:9200', 'https://es2:9200']);
    assert.deepEqual(es.auth, { apiKey: 'a2V5' });
    assert.equal(c.EXIT137_SETTLE_MS, 5000);
  });

  it('fails at start naming each bad variable, never printing a value', () => {
    assert.throws(
      () => workerEnv({ EXIT137_REDIS_URL: 'http://x', EXIT137_ES_URL: 'es1:9200', EXIT137_METRICS_PORT: 'ninety', EXIT137_ES_USER: 'no-colon-s3cret' }),
      (e: Error) => ['EXIT137_REDIS_URL', 'EXIT137_ES_URL', 'EXIT137_METRICS_PORT', 'EXIT137_ES_USER'].every((k) => e.message.includes(k)) && !e.message.includes('s3cret'),
    );
    assert.throws(() => workerEnv({ EXIT137_ES_API_KEY: 'k', EXIT137_ES_USER: 'u:p' }), /not both/);
  });

  it('logs the configuration without its secrets', () => {
    const text = JSON.stringify(redacted(workerEnv({ EXIT137_REDIS_URL: 'redis://user:pw1@r:6379', EXIT137_REDIS_PASSWORD: 'pw2', EXIT137_ES_USER: 'elastic:pw3', EXIT137_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/pw4' })));
    for (const secret of ['pw1', 'pw2', 'pw3', 'pw4']) assert.ok(!text.includes(secret), secret);
    assert.match(text, /redis:\/\/\[redacted\]@r:6379/);
  });

  it('the events refresh interval: an Elasticsearch time value or -1, unset by default', () => {
    assert.deepEqual(eventsRefresh({}), {});
    assert.deepEqual(eventsRefresh({ EXIT137_ES_EVENTS_REFRESH: '15s' }), { eventsRefresh: '15s' });
    assert.deepEqual(eventsRefresh({ EXIT137_ES_EVENTS_REFRESH: '-1' }), { eventsRefresh: '-1' });
    assert.throws(() => eventsRefresh({ EXIT137_ES_EVENTS_REFRESH: '15 seconds' }), /EXIT137_ES_EVENTS_REFRESH/);
    assert.throws(() => workerEnv({ EXIT137_ES_EVENTS_REFRESH: 'soon' }), /EXIT137_ES_EVENTS_REFRESH/);
  });

  it('takes an empty variable as unset, as compose files write them', () => {
    assert.equal(workerEnv({ EXIT137_SLACK_WEBHOOK_URL: '' }).EXIT137_SLACK_WEBHOOK_URL, undefined);
  });
});
