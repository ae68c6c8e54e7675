/**
 * When two names are the same person. `Alice`, `alice` and `ａｌｉｃｅ` (full-width) must count
 * as one requester and one reviewer, or a requester approves their own call under another
 * spelling and one reviewer counts twice towards a two-person rule. Names are compared by
 * their NFKC form, case-folded (upper then lower case folds `ß` with `SS`, which lower case
 * alone does not), normalised again because folding can leave a decomposed form.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

export function sameName(a: string, b: string): boolean {
  return nameKey(a) === nameKey(b);
}
