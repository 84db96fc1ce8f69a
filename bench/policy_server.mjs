// policy_server.mjs — a policy server that answers at once, for bench/policy_join.sh: the
// alias "adhoc" gets a conference only it knows, everything else action continue; media
// location answers a location; every request is counted. Prints "port N" when listening
// and the counts on SIGTERM. Usage: node bench/policy_server.mjs
import http from 'node:http';

const counts = {};
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const kind = u.pathname.split('/').slice(3).join('/');
  counts[kind] = (counts[kind] ?? 0) + 1;
  let body;
  if (kind === 'service/configuration' && u.searchParams.get('local_alias') === 'adhoc') {
    body = { status: 'success', action: 'continue', result: { service_type: 'conference', name: 'adhoc', service_tag: 'bench' } };
  } else if (kind === 'participant/location') {
    body = { status: 'success', result: { location: 'default' } };
  } else {
    body = { status: 'success', action: 'continue', result: {} };
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
});
server.keepAliveTimeout = 60000;
server.on('connection', () => { counts.connections = (counts.connections ?? 0) + 1; });
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
process.on('SIGTERM', () => {
  console.log(`requests: ${JSON.stringify(counts)}`);
  process.exit(0);
});
