// Types of the library entry (src/index.js is plain CommonJS with JSDoc; TypeScript consumers read this file).

/** What `checkApiReport` found for one package. */
export interface ApiReportResult {
  /** the package.json "name" */
  packageName: string;
  /** the report file, absolute (`<packageDir>/api/exports.txt`) */
  file: string;
  /** every entry point the package declares: "@sage/x", "@sage/x/http", ... */
  entries: string[];
  /** the report was rewritten from the built package */
  updated: boolean;
  /** one readable message per mismatch; empty when the report matches */
  problems: string[];
}

export interface ApiReportOptions {
  /** rewrite api/exports.txt from the built package before comparing */
  update?: boolean;
  /** paths in messages are relative to it (default: the current directory) */
  workspaceRoot?: string;
}

/**
 * Compares the runtime names each entry point of the built package in `packageDir` exports (as a consumer's
 * `require` sees them) with the package's api/exports.txt.
 */
export function checkApiReport(packageDir: string, options?: ApiReportOptions): ApiReportResult;
