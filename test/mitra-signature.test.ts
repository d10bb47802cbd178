import { describe, expect, it } from 'vitest';
import { mitraSign, mitraSignMatches, signedMessage } from '../src/mitra/signature.js';

// shared/spec/test-vectors.md, verbatim.
const SECRET = 'YourVerySecretKey';
const VECTORS = {
  published:
    'ODBiNzRjMTIyZTZkZjMyMzU4YzQzNzUxMDhjNDM2YTcxMjFhY2EyZWYwYzRkODYxZTgxYWE2YjdjYjI2MWVkY2M0MzYzNGMzNDc3ZTdiNmY4YThlZmIyNGQyNDUwYjU2YjFlODYwNTY5YzkyYjY1NDFkMGZmZWE4ZDYzNTUyNWQ=',
  brands:
    'YWE1OTI5NjZjZWZkN2FiMGVkNGNjOTQ4NTM3MmQzZTY1MzBkYzk5NDI3ZjU2YzAwNzI4ZGI1MzEzN2YwYmJiY2EzZDM3MmI4NmI2MGUzMzFlMjA1OTBkZTIyNDk5MDMzNjE2NThmZmY1OTFiZGViYjAxODhiMGFkZmZkM2UwMmM=',
  variations:
    'MzViMzAxYjJmYTc0OGY4YjYxNTIzNmQxNmQ5ZjYzNzllZDU3ZWJlYzAyZGI4Mzc4MGZiMmEzNDI5NDBmZjYxNjZjMjdjNTFkZDExYzg3OWE4MTUyNjM5ZWRlZWVkZDllYmFiZTAyZjg4Mjk4YzRkMzUxYThmNGMxYWU2ZmUzNGM=',
  order:
    'MGRkZDZmNTY2ZjFmNTM5OTJmZDRmYzQ2OTAyMmQ1M2UyMTc4NTEyOGUxMTFjZjQ5Y2FkMDNlYTQ3NmMyZDhhMWExMzAyNmYxNzMxNTQ4NmM5NDQ5YzZhZjEzNjFlMmM3MWExNGM0MmIyMzcwMGVjNGYxOTBjNzMzNWQ3MDY2ZWY=',
  orderStatus:
    'YzEyY2Q4Yzc4YmU5ZjAxNTY1NmEyODM3ZGM0ODg5MzdiYjRiYzNiNDliNzk1M2I0YTgwYzM3MjYxOGEwMTk5MTg0ZjIzYWYzMmNhZDAyZDJmNTgwM2Q3ZDAyNWY0MDdlYjg5MjViNDVlOWUyMWRjNmM2MjE1MWI5NjNiN2IzZjQ=',
};

describe('Mitra sign', () => {
  it('matches the published PHP example', () => {
    expect(mitraSign(SECRET, '9999VCGS33-S229999TRX0005')).toBe(VECTORS.published);
  });

  it('matches the vector of every call the gateway makes', () => {
    expect(mitraSign(SECRET, signedMessage.brands())).toBe(VECTORS.brands);
    expect(mitraSign(SECRET, signedMessage.variations('MLBB'))).toBe(VECTORS.variations);
    expect(
      mitraSign(
        SECRET,
        signedMessage.order({
          brand_key: 'MLBB',
          variation_key: 'MLBB112',
          price: 30000,
          ref_id: 'RG-121VKD1KFHP8B6ECD7862',
          timestamp: '1750000000',
        }),
      ),
    ).toBe(VECTORS.order);
    expect(mitraSign(SECRET, signedMessage.orderStatus('VCG-TRX-0001'))).toBe(VECTORS.orderStatus);
  });

  it('builds the order message in the documented field order, numbers in plain decimal', () => {
    expect(
      signedMessage.order({ brand_key: 'B', variation_key: 'V', price: 1e21, ref_id: 'R', timestamp: '1' }),
    ).toBe('orderBV1000000000000000000000R1');
  });

  it('verifies in constant time and refuses any other signature', () => {
    expect(mitraSignMatches(SECRET, 'brand', VECTORS.brands)).toBe(true);
    expect(mitraSignMatches(SECRET, 'brand', VECTORS.variations)).toBe(false);
    expect(mitraSignMatches(SECRET, 'brand', '')).toBe(false);
    expect(mitraSignMatches('other', 'brand', VECTORS.brands)).toBe(false);
  });
});
