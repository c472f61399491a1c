// A real tus client (tus-js-client, as the web studio uses it) uploads a file to one edge,
// is cut off after its first chunk, and resumes the same upload through a second edge.
// Usage: node tus_resume.mjs EDGE_A EDGE_B TOKEN FILE CHUNK_BYTES
// Prints one JSON line: where it was interrupted, the URL it finished at, the asset id.
import * as tus from 'tus-js-client';
import { readFileSync } from 'node:fs';

const [edgeA, edgeB, token, path, chunk] = process.argv.slice(2);
const data = readFileSync(path);
const chunkSize = Number(chunk);
const headers = { authorization: `Bearer ${token}` };

// The first edge: stop as soon as one chunk is stored, as a dropped connection would.
const { url, interruptedAt } = await new Promise((resolve, reject) => {
  const upload = new tus.Upload(data, {
    endpoint: `${edgeA}/api/v1/uploads`,
    chunkSize,
    headers,
    metadata: { filename: 'resume.mp4' },
    retryDelays: null,
    onChunkComplete: (_size, accepted) => {
      upload.abort().then(() => resolve({ url: upload.url, interruptedAt: accepted }), reject);
    },
    onError: reject,
    onSuccess: () => reject(new Error('the upload finished before it was interrupted')),
  });
  upload.start();
});

// The second edge: the client asks where the upload stands (HEAD) and goes on from there.
const uploadUrl = url.replace(edgeA, edgeB);
let assetId = null;
await new Promise((resolve, reject) => {
  const upload = new tus.Upload(data, {
    uploadUrl,
    chunkSize,
    headers,
    retryDelays: null,
    onAfterResponse: (_request, response) => {
      assetId = response.getHeader('ottr-asset-id') || assetId;
    },
    onError: reject,
    onSuccess: resolve,
  });
  upload.start();
});
console.log(JSON.stringify({ interruptedAt, uploadUrl, assetId }));
