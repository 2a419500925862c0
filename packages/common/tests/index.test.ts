import * as common from '../src';

describe('@sage/common public entry', () => {
  it('loads', () => {
    expect(typeof common).toBe('object');
  });
});
