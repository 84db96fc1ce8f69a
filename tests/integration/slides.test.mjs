// slides.test.mjs — image presentations (client API §D.4): the floor holder posts a JPEG
// as multipart/form-data; everyone else gets presentation_frame with the frame's id and
// fetches exactly those bytes from presentation.jpeg?id=…&token=…; releasing the floor ends it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from './helpers.mjs';

let d;
before(async () => { d = await startDaemon({ rooms: ['slides'] }); });
after(async () => { await d?.stop(); });

function form(boundary, bytes, type = 'image/jpeg') {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="frame"; filename="slide"\r\n` +
                `Content-Type: ${type}\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

test('a posted slide reaches viewers by presentation_frame and presentation.jpeg', async () => {
  const presenter = await d.join('slides', { name: 'Presenter' });
  const viewer = await d.join('slides', { name: 'Viewer' });
  const s = await viewer.events();
  await s.synced();
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 7), Buffer.from([0xff, 0xd9])]);
  const post = (who, bytes, type) => d.api('POST', 'slides', 'presentation', {
    token: who.token, rawBody: form('PaRlEy', bytes, type),
    contentType: 'multipart/form-data; boundary=PaRlEy', noCheck: true });

  let r = await post(presenter, jpeg);
  assert.equal(r.status, 403, 'no floor, no slide');
  await presenter.do(`participants/${presenter.uuid}/take_floor`, { jpegs: true });
  r = await post(presenter, jpeg);
  assert.equal(r.status, 200, r.text);
  const frame = await s.waitFor('presentation_frame');
  assert.deepEqual(frame.data, {});
  assert.ok(frame.id, 'the frame is known by its event id');

  const got = await d.api('GET', 'slides', `presentation.jpeg?id=${frame.id}`,
    { token: viewer.token, tokenIn: 'query', noCheck: true });
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-type'], 'image/jpeg');
  assert.ok(got.buffer.equals(jpeg), 'the same bytes come back');
  const high = await d.api('GET', 'slides', `presentation_high.jpeg?id=${frame.id}`,
    { token: viewer.token, tokenIn: 'query', noCheck: true });
  assert.ok(high.buffer.equals(jpeg));
  const stale = await d.api('GET', 'slides', `presentation.jpeg?id=${Number(frame.id) + 1000}`,
    { token: viewer.token, tokenIn: 'query' });
  assert.equal(stale.status, 404);

  r = await post(presenter, Buffer.from('GIF89a'), 'image/gif');
  assert.equal(r.status, 415);
  r = await d.api('POST', 'slides', 'presentation', { token: presenter.token, rawBody: 'nope',
    contentType: 'multipart/form-data; boundary=X', noCheck: true });
  assert.equal(r.status, 400);
  assert.equal(r.body.status, 'failed');

  await presenter.do(`participants/${presenter.uuid}/release_floor`);
  await s.waitFor('presentation_stop');
  const gone = await d.api('GET', 'slides', 'presentation.jpeg', { token: viewer.token, tokenIn: 'query' });
  assert.equal(gone.status, 404);
  s.assertClean();
  await presenter.release();
  await viewer.release();
});
