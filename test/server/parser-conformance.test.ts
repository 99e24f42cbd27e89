// The parser against the RFC 9110/9112 cases issue 16 listed (Host,
// chunk-size lines, sizes that cannot be represented vs sizes over the
// limit, over-long methods and targets), each fed whole and one byte at a
// time: the outcome must not depend on how the input was split.
import { expect } from 'chai';
import { ERROR, REQUEST, RequestParser, type ParserLimits } from '../../server/http/parser';

const LIMITS: ParserLimits = { maxHeaderBytes: 4096, maxHeaderCount: 100, maxBodyBytes: 64 * 1024 };

/** 'request:<body>' or 'error:<status>' for the first outcome; 'more' when the parser wants more input. */
function outcome(pieces: Buffer[], limits: ParserLimits): string {
  const parser = new RequestParser(limits);
  let pending = Buffer.alloc(0);
  for (const piece of pieces) {
    pending = Buffer.concat([pending, piece]);
    for (;;) {
      const consumed = parser.execute(pending, 0, pending.length);
      pending = pending.subarray(consumed);
      if (parser.result === REQUEST) return `request:${parser.request!.body.toString('latin1')}`;
      if (parser.result === ERROR) return `error:${parser.errorStatus}`;
      if (consumed === 0) break;
    }
  }
  return 'more';
}

function result(text: string, limits: ParserLimits = LIMITS): string {
  const bytes = Buffer.from(text, 'latin1');
  const whole = outcome([bytes], limits);
  const byByte = outcome([...bytes].map((b) => Buffer.of(b)), limits);
  expect(byByte, `split one byte at a time: ${JSON.stringify(text.slice(0, 80))}`).to.equal(whole);
  return whole;
}

const CHUNKED = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';

describe('server: HTTP parser conformance (issue 16)', () => {
  describe('Host (RFC 9110 §7.2, RFC 9112 §3.2)', () => {
    const host = (value: string): string => result(`GET / HTTP/1.1\r\nHost:${value}\r\n\r\n`);

    it('accepts names, IPv4, IPv6 literals, ports and percent-encoding', () => {
      for (const value of [' example.com', ' example.com:8080', ' 127.0.0.1:1', ' [::1]:8080', ' [::1]', ' a-b.c_d~e', ' xn--bcher-kva.example', ' h%41st']) {
        expect(host(value), value).to.equal('request:');
      }
    });

    it('refuses userinfo, a path, a list, an empty value, a bad port or bracket: 400', () => {
      for (const value of [' user@h:80', ' h:80/path', '', ' ', ' h:80, other.example.com', ' h:8x', ' [::1', ' [::1]x', ' []', ' h%4', ' h h', ' h?q', ' h#f']) {
        expect(host(value), JSON.stringify(value)).to.equal('error:400');
      }
    });

    it('HTTP/1.0 may omit Host, but one that is sent must be valid', () => {
      expect(result('GET / HTTP/1.0\r\n\r\n')).to.equal('request:');
      expect(result('GET / HTTP/1.0\r\nHost: a@b\r\n\r\n')).to.equal('error:400');
    });
  });

  describe('chunk-size lines (RFC 9112 §7.1)', () => {
    const chunk = (line: string): string => result(`${CHUNKED}${line}\r\nabcde\r\n0\r\n\r\n`);

    it('accepts extensions that follow the grammar', () => {
      for (const line of ['5', '5;a', '5;a=b', '5;a="b c"', '5;a="q\\"x"', '5 ;a', '5; a = b', '5;a;b=c', '00005', '5;a=b;c']) {
        expect(chunk(line), line).to.equal('request:abcde');
      }
    });

    it('refuses a bare semicolon, a name that is not a token, trailing whitespace: 400', () => {
      for (const line of ['5;', '5;bad[=x', '5 ', '5\t', '5;a ', '5;a=', '5;=b', '5;a="open', '5;a=b ', '5;a=[', '5 x', '5;a=b c']) {
        expect(chunk(line), JSON.stringify(line)).to.equal('error:400');
      }
    });

    it('a size no integer can hold is malformed (400), a well-formed size over the limit is 413', () => {
      expect(result(`${CHUNKED}FFFFFFFFFFFFFFFF0\r\n`)).to.equal('error:400');
      expect(result(`${CHUNKED}20000000000000\r\n`)).to.equal('error:400'); // 2^53: not a safe integer
      expect(result(`${CHUNKED}${'0'.repeat(17)}5\r\nabcde\r\n0\r\n\r\n`)).to.equal('error:400'); // size line bounded
      expect(result(`${CHUNKED}10001\r\n`)).to.equal('error:413'); // 65,537 > 65,536
      expect(result(`${CHUNKED}FFFFFFFF\r\n`)).to.equal('error:413');
      expect(result(`${CHUNKED}8000\r\n${'x'.repeat(0x8000)}\r\n8001\r\n`)).to.equal('error:413'); // the sum counts
    });
  });

  describe('Content-Length', () => {
    const cl = (value: string, body = ''): string => result(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${value}\r\n\r\n${body}`);

    it('a length that cannot be represented is malformed (400); one over the limit is 413', () => {
      expect(cl('99999999999999999999')).to.equal('error:400');
      expect(cl('9007199254740992')).to.equal('error:400'); // 2^53
      expect(cl('999999999')).to.equal('error:413');
      expect(cl('9007199254740991')).to.equal('error:413'); // 2^53 - 1: representable, too large
      expect(cl('65537')).to.equal('error:413');
    });

    it('`5, 5` is one length of 5 (RFC 9110 §8.6 allows it); `5, 6` is 400', () => {
      expect(cl('5, 5', 'abcde')).to.equal('request:abcde');
      expect(cl('5,5', 'abcde')).to.equal('request:abcde');
      expect(cl('5, 6', 'abcdef')).to.equal('error:400');
      expect(cl('5,', 'abcde')).to.equal('error:400');
    });
  });

  describe('over-long request lines', () => {
    const small: ParserLimits = { ...LIMITS, maxHeaderBytes: 1024 };

    it('a method longer than any known one: 400 (not 431), also when it never ends', () => {
      expect(result(`${'A'.repeat(100_000)} / HTTP/1.1\r\nHost: a\r\n\r\n`, small)).to.equal('error:400');
      expect(result('A'.repeat(5000), small)).to.equal('error:400');
      expect(result(`${'A'.repeat(65)} / HTTP/1.1\r\nHost: a\r\n\r\n`)).to.equal('error:400');
      expect(result(`${'A'.repeat(64)} / HTTP/1.1\r\nHost: a\r\n\r\n`)).to.equal('request:');
    });

    it('a request-target longer than the head limit: 414; long header fields: 431', () => {
      expect(result(`GET /${'a'.repeat(2000)} HTTP/1.1\r\nHost: a\r\n\r\n`, small)).to.equal('error:414');
      expect(result(`GET /${'a'.repeat(2000)}`, small)).to.equal('error:414');
      expect(result(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(2000)}\r\n\r\n`, small)).to.equal('error:431');
    });
  });
});
