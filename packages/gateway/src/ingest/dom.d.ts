// The part of linkedom's DOM the HTML and DOCX loaders use. linkedom's own declarations are not reachable
// from a CommonJS package (its exports map has no "types"), and the DOM lib is not part of this Node build.
declare module 'linkedom' {
  export interface DomElement {
    readonly tagName: string;
    readonly textContent: string | null;
    readonly innerHTML: string;
    readonly outerHTML: string;
    querySelector(selector: string): DomElement | null;
    querySelectorAll(selector: string): ArrayLike<DomElement> & Iterable<DomElement>;
    getAttribute(name: string): string | null;
    remove(): void;
  }
  export interface DomDocument extends DomElement {
    readonly title: string;
    readonly body: DomElement | null;
    readonly documentElement: DomElement;
    cloneNode(deep: boolean): DomDocument;
  }
  export function parseHTML(html: string): { document: DomDocument };
}
