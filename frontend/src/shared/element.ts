// Like Lit's @customElement, but a bundle loaded twice (the integration's module and a
// dashboard resource added by hand, or two versions during an update) does not throw.
export function element(name: string) {
  return (cls: CustomElementConstructor): void => {
    if (!customElements.get(name)) customElements.define(name, cls);
  };
}
