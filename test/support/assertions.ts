// Assertions shared by the suites.
import { getSystemErrorName } from 'node:util';
import { expect } from 'chai';
import { IOError } from '../../io';

/** `error` is an IOError with this code (one of `codes`) and syscall, and a consistent errno. */
export function expectIOError(error: unknown, codes: string | string[], syscall: string): asserts error is IOError {
  const expected = Array.isArray(codes) ? codes : [codes];
  expect(error, `expected an IOError ${expected.join('|')} from ${syscall}`).to.be.instanceOf(IOError);
  const ioError = error as IOError;
  expect(ioError).to.be.instanceOf(Error);
  expect(expected, `error code ${ioError.code} (${ioError.message})`).to.include(ioError.code);
  expect(ioError.syscall).to.equal(syscall);
  expect(ioError.errno).to.be.a('number');
  expect(ioError.errno).to.be.lessThan(0);
  expect(getSystemErrorName(ioError.errno)).to.equal(ioError.code);
}

/** `run()` throws an error that is an instance of `type` and, if given, has this `code`. */
export function expectThrows(run: () => unknown, type: new (...args: never[]) => Error, code?: string): Error {
  let thrown: unknown = null;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected a ${type.name}`).to.be.instanceOf(type);
  if (code !== undefined) expect((thrown as { code?: unknown }).code).to.equal(code);
  return thrown as Error;
}
