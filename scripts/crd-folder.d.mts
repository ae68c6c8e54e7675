/** Types for the tests that import scripts/crd-folder.mjs, which scripts/import.sh runs with plain node. */
export declare function crdFolderCandidates(env?: NodeJS.ProcessEnv): string[];
export declare function findCrdFolder(env?: NodeJS.ProcessEnv): { folder: string | undefined; looked: string[] };
export declare function missingCrdsMessage(looked: string[]): string;
