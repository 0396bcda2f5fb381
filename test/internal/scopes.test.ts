import { describe, expect, it } from 'vitest';
import { missingScopes } from '../../src/internal/scopes.js';

describe('missingScopes', () => {
  it('treats the OpenID short names and Google’s URLs as the same scope', () => {
    const granted = Object.freeze(['openid', 'https://www.googleapis.com/auth/userinfo.email', 'profile']);
    expect(
      missingScopes(granted, ['email', 'https://www.googleapis.com/auth/userinfo.profile', 'openid']),
    ).toEqual([]);
    expect(missingScopes(['openid', 'email'], ['https://www.googleapis.com/auth/userinfo.email'])).toEqual(
      [],
    );
  });

  it('returns the missing ones in the order and spelling asked for, and nothing for no requirement', () => {
    const drive = 'https://www.googleapis.com/auth/drive.readonly';
    const calendar = 'https://www.googleapis.com/auth/calendar.readonly';
    expect(missingScopes(['openid', 'email'], [calendar, 'email', drive])).toEqual([calendar, drive]);
    expect(missingScopes([], [])).toEqual([]);
    // The same granted array again (the manager's cached copy): same answer.
    const granted = Object.freeze([drive]);
    expect(missingScopes(granted, [drive, calendar])).toEqual([calendar]);
    expect(missingScopes(granted, [drive, calendar])).toEqual([calendar]);
  });
});
