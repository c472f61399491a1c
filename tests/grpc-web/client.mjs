// An off-the-shelf gRPC-web client (@connectrpc/connect-web over fetch, in Node) against
// the edge: sign in, list titles, and follow a transcode's server stream to its end.
// The services come from ottr's own descriptor set at run time; nothing is generated.
// Usage: node tests/grpc-web/client.mjs <edge url> <descriptor set> <email> <password> <job id>
import { readFileSync } from 'node:fs';
import { createClient } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

const [baseUrl, descriptors, email, password, jobId] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptors)));
const transport = createGrpcWebTransport({ baseUrl, useBinaryFormat: true });
const service = name => createClient(registry.getService(name), transport);

let failed = false;
try {
  const session = await service('ottr.auth.v1.AuthService').login({ email, password });
  console.log(`grpc-web: signed in as ${session.user.email}`);
  const headers = { authorization: `Bearer ${session.accessToken}` };

  const page = await service('ottr.catalog.v1.CatalogService').listTitles({ pageSize: 10 }, { headers });
  console.log(`grpc-web: ${page.titles.length} titles listed`);

  const phases = [];
  let lastPercent = -1;
  for await (const event of service('ottr.media.v1.MediaService').watchJob({ jobId }, { headers })) {
    phases.push(event.phase);
    if (event.percent < lastPercent && event.phase === 3) throw new Error('progress went backwards');
    lastPercent = event.percent;
  }
  console.log(`grpc-web: job stream phases ${phases.join(',')}`);
  if (phases.at(-1) !== 6) throw new Error(`the stream did not end ready: ${phases}`);

  try {
    await service('ottr.auth.v1.AuthService').login({ email, password: 'wrong password' });
    throw new Error('a wrong password was accepted');
  } catch (error) {
    if (error.code !== 16) throw error; // Code.Unauthenticated
    console.log(`grpc-web: wrong password refused (${error.metadata.get('ottr-error-code')})`);
  }
} catch (error) {
  failed = true;
  console.log(`grpc-web: FAILED: ${error.message}`);
}
console.log(failed ? '0 passed, 1 failed' : '1 passed, 0 failed');
process.exit(failed ? 1 : 0);
