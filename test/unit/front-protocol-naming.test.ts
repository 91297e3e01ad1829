import { describe, expect, it } from 'vitest';
import { collectPages, paginate } from '../../src/front/paging.js';
import { gatewayUri, parseGatewayUri, parseNamespaced } from '../../src/front/resource-uri.js';

describe('resource URIs and prompt names on the front', () => {
  it('maps a backend URI to mcpgw://<server>/<uri> and back, verbatim', () => {
    for (const uri of [
      'file:///home/a b/c.txt',
      'demo://resource/dynamic/text/{resourceId}',
      'mcpgw://other/x://y',
      'urn:isbn:0451450523',
      'https://example.com/a?b=c#d',
    ]) {
      const served = gatewayUri('my-server_1', uri);
      expect(served).toBe(`mcpgw://my-server_1/${uri}`);
      expect(parseGatewayUri(served)).toEqual({ server: 'my-server_1', uri });
    }
  });

  it('is not fooled by URIs that are not the gateway’s', () => {
    expect(parseGatewayUri('file:///x')).toBeUndefined();
    expect(parseGatewayUri('mcpgw://')).toBeUndefined();
    expect(parseGatewayUri('mcpgw:///x')).toBeUndefined();
    expect(parseGatewayUri('mcpgw://server')).toBeUndefined();
  });

  it('splits <server>__<prompt> at the first separator', () => {
    expect(parseNamespaced('everything__args-prompt')).toEqual({ server: 'everything', name: 'args-prompt' });
    expect(parseNamespaced('a__b__c')).toEqual({ server: 'a', name: 'b__c' });
    expect(parseNamespaced('plain')).toBeUndefined();
    expect(parseNamespaced('__x')).toBeUndefined();
  });
});

describe('pagination', () => {
  const items = Array.from({ length: 25 }, (_, i) => i);

  it('pages the gateway’s lists with an opaque cursor to the end', () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = paginate(items, cursor, 10);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(seen).toEqual(items);
    expect(pages).toBe(3);
    expect(paginate(items, undefined, 25).nextCursor).toBeUndefined();
  });

  it('refuses a cursor it did not make', () => {
    expect(() => paginate(items, 'nonsense', 10)).toThrow(/Invalid cursor/);
    expect(() => paginate(items, Buffer.from('{"o":-1}').toString('base64url'), 10)).toThrow(
      /Invalid cursor/,
    );
  });

  it('follows a backend’s pages to the end, and stops on a repeated cursor', async () => {
    const pages: Record<string, { items: number[]; nextCursor?: string }> = {
      start: { items: [1, 2], nextCursor: 'b' },
      b: { items: [3], nextCursor: 'c' },
      c: { items: [4] },
    };
    expect(await collectPages(async (c) => pages[c ?? 'start'] ?? { items: [] }, 'test')).toEqual([
      1, 2, 3, 4,
    ]);
    await expect(collectPages(async () => ({ items: [1], nextCursor: 'same' }), 'loop')).rejects.toThrow(
      /cursor 'same' twice/,
    );
  });
});
