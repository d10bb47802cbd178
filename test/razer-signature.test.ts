import { describe, expect, it } from 'vitest';
import { signatureHeader, verifyRequest } from '../src/razer/signature.js';
import { requestSignedContent, type SignedContentMode } from '../src/readings/razer.js';

// shared/spec/test-vectors.md, verbatim.
const API_ID = 'publisherA';
const KEY = 'test-api-key-0001';
const BODY = Buffer.from(
  '{"transactionNumber":"121VKD1KFHP8B6ECD7862","sku":"DIAMOND50","razerId":"RZR_0060d83c4d40bb9f10fb00bc0000","accountId":"123456-12","userIpAddress":"23.199.128.1","userCountryCode":"MY","customParam":{"serverId":"MY01"}}',
);
const INIT_BODY_MODE =
  'cHVibGlzaGVyQQ==:NDA4OTYyZTFiYjJlNmEyNDIyMDhlYzljMDc4MmQ2ZTg3MmIzNzJlNzU4YzU4M2FhNjI3NzJjNjgxNWU4Y2YxNg==';
const INIT_URI_MODE =
  'cHVibGlzaGVyQQ==:MzU0N2RiNzMzMzM4YmU2ZWYyNjQ0Mjg4NDUxNGYyMDdmYmQzNmZhNmM2NDkzZDZjYTcyYzQ0YWI2ZTljODJjYQ==';
const QUERY =
  'cHVibGlzaGVyQQ==:N2FhN2U3OTE3ZmRlNzQzZjdjNjcxYmVlYjNmYjc4M2EyZjgxNjdjOGExNWRkNzRiOWI3N2NkZDMyN2ZiMmYwYg==';
const creds = [{ apiId: API_ID, keys: [KEY] }];

describe('X-Razer-Signature', () => {
  it('matches the vectors in both modes and for a GET', () => {
    expect(
      signatureHeader(API_ID, KEY, requestSignedContent('body', 'POST', '/transaction/init?a=1', BODY)),
    ).toBe(INIT_BODY_MODE);
    expect(
      signatureHeader(API_ID, KEY, requestSignedContent('uri', 'POST', '/transaction/init?a=1', BODY)),
    ).toBe(INIT_URI_MODE);
    for (const mode of ['body', 'uri'] as const) {
      expect(
        signatureHeader(
          API_ID,
          KEY,
          requestSignedContent(mode, 'GET', '/transaction/121VKD1KFHP8B6ECD7862', Buffer.alloc(0)),
        ),
      ).toBe(QUERY);
    }
  });

  it('verifies the vectors', () => {
    expect(verifyRequest(INIT_BODY_MODE, creds, 'body', 'POST', '/transaction/init?a=1', BODY)).toEqual({
      ok: true,
      apiId: API_ID,
      key: KEY,
    });
    expect(verifyRequest(INIT_URI_MODE, creds, 'uri', 'POST', '/transaction/init?a=1', BODY).ok).toBe(true);
    expect(
      verifyRequest(QUERY, creds, 'body', 'GET', '/transaction/121VKD1KFHP8B6ECD7862', Buffer.alloc(0)).ok,
    ).toBe(true);
  });

  const REFUSED: [string, string, string, Buffer, string, SignedContentMode?][] = [
    [
      'a tampered body',
      INIT_BODY_MODE,
      '/transaction/init?a=1',
      Buffer.from(BODY.toString().replace('MY01', 'MY02')),
      'signature does not match',
    ],
    ['a tampered query', INIT_BODY_MODE, '/transaction/init?a=2', BODY, 'signature does not match'],
    [
      'a body-mode signature in uri mode',
      INIT_BODY_MODE,
      '/transaction/init?a=1',
      BODY,
      'signature does not match',
      'uri',
    ],
    [
      'an unknown api-id',
      `${Buffer.from('someoneElse').toString('base64')}:${INIT_BODY_MODE.split(':')[1]}`,
      '/transaction/init?a=1',
      BODY,
      'unknown api-id',
    ],
    [
      'no colon',
      'cHVibGlzaGVyQQ==',
      '/transaction/init?a=1',
      BODY,
      'X-Razer-Signature must be base64(api-id):base64(signature)',
    ],
    [
      'non-base64 parts',
      'publisherA:abc!',
      '/transaction/init?a=1',
      BODY,
      'X-Razer-Signature parts are not base64',
    ],
    ['an empty header', '', '/transaction/init?a=1', BODY, 'X-Razer-Signature header is missing'],
  ];
  it.each(REFUSED)('refuses %s', (_name, header, uri, body, reason, mode) => {
    expect(verifyRequest(header, creds, mode ?? 'body', 'POST', uri, body)).toMatchObject({
      ok: false,
      reason,
    });
  });

  it('accepts the old and the new key during a rotation, and signs with the key that verified', () => {
    const rotating = [{ apiId: API_ID, keys: ['new-key', KEY] }];
    expect(verifyRequest(INIT_BODY_MODE, rotating, 'body', 'POST', '/transaction/init?a=1', BODY)).toEqual({
      ok: true,
      apiId: API_ID,
      key: KEY,
    });
    const signedWithNew = signatureHeader(
      API_ID,
      'new-key',
      requestSignedContent('body', 'POST', '/x', Buffer.alloc(0)),
    );
    expect(verifyRequest(signedWithNew, rotating, 'body', 'POST', '/x', Buffer.alloc(0))).toMatchObject({
      ok: true,
      key: 'new-key',
    });
    expect(verifyRequest(signedWithNew, creds, 'body', 'POST', '/x', Buffer.alloc(0))).toMatchObject({
      ok: false,
    });
  });

  it('reads the published 400 example header as api-id publisherA', () => {
    const published =
      'cHVibGlzaGVyQQ==:YTRkNWJiNDQ1ZTUzNzIwZDA0NTU0ODg1YzI5ZWMzODE2NjZhM2I1MGFiNTZiZTIxMmFjODI4ZjQ3ODI0MjAwZA==';
    expect(verifyRequest(published, creds, 'body', 'POST', '/x', Buffer.alloc(0))).toMatchObject({
      ok: false,
      reason: 'signature does not match',
      credential: { apiId: 'publisherA' },
    });
  });
});
