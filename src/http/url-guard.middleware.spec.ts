import { urlProblem } from './url-guard.middleware';

describe('urlProblem', () => {
  it.each([
    ['/api/calls/a%00b', 'the URL path contains a NUL character (%00)'],
    ['/api/calls?limit=5&q=a%00', 'query parameter "q" contains a NUL character (%00)'],
    ['/api/calls?a%00=1', 'query parameter "a%00" contains a NUL character (%00)'],
    ['/api/calls/%E0%A4%A', 'the URL path has malformed percent-encoding in "%E0%A4%A"'],
    ['/api/calls/%ZZ?q=x', 'the URL path has malformed percent-encoding in "%ZZ"'],
  ])('refuses %s', (url, problem) => {
    expect(urlProblem(url)).toBe(problem);
  });

  it.each([
    '/api/calls',
    '/api/calls?q=100%2500',
    '/api/calls/%2B15550100',
    '/api/calls?q=%E0%A4%A',
    '/api/calls/caf%C3%A9',
    '/',
  ])('accepts %s', (url) => {
    expect(urlProblem(url)).toBeUndefined();
  });
});
