import { describe, expectTypeOf, it } from 'vitest';
import {
  type AccessDeniedReason,
  type AnyCredentialError,
  ConflictError,
  isCredentialError,
  type ProviderError,
} from '../src/index.js';

describe('AnyCredentialError', () => {
  it('narrows by `code` to the class with that code and its own fields', () => {
    const describe = (error: AnyCredentialError) => {
      switch (error.code) {
        case 'PROVIDER_ERROR':
          expectTypeOf(error).toEqualTypeOf<ProviderError>();
          return error.providerCode;
        case 'ACCESS_DENIED':
          expectTypeOf(error.reason).toEqualTypeOf<AccessDeniedReason | undefined>();
          return error.reason;
        case 'CORRUPT':
          return error.keyId;
        case 'AUTHORIZATION_REQUIRED':
          return error.url;
        default:
          return error.code;
      }
    };
    expectTypeOf(describe).returns.toEqualTypeOf<string | undefined>();
  });

  it('isCredentialError narrows to the union, or to the class of the code it is asked about', () => {
    const error: unknown = new ConflictError('lost');
    if (isCredentialError(error)) expectTypeOf(error).toEqualTypeOf<AnyCredentialError>();
    if (isCredentialError(error, 'CONFLICT')) expectTypeOf(error).toEqualTypeOf<ConflictError>();
  });

  it('AccessDeniedError.reason takes only the listed reasons', () => {
    expectTypeOf<'token-user-mismatch'>().toExtend<AccessDeniedReason>();
    expectTypeOf<'because'>().not.toExtend<AccessDeniedReason>();
  });
});
