/** Types for the tests that import scripts/runtime-packages.mjs, which the image build runs with plain node. */
export declare const runtimePackages: string[];
export declare function copyRuntimePackages(from: string, to: string): void;
