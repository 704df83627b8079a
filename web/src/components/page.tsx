import { createContext, useContext, useEffect, useRef, type ReactNode } from 'react';

/** Counts client-side navigations to a new path: 0 on the first page shown. */
export const NavigationCount = createContext(0);

export const PRODUCT_NAME = 'Mechanica';

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · ${PRODUCT_NAME}`;
  }, [title]);
}

interface PageHeadingProps {
  /** The document title (without the product name). */
  title: string;
  children?: ReactNode;
}

/**
 * The one `<h1>` of a page. It sets `document.title` and, after a navigation (not on the
 * first load), takes focus so screen readers announce the new page.
 */
export function PageHeading({ title, children }: PageHeadingProps) {
  const navigations = useContext(NavigationCount);
  const ref = useRef<HTMLHeadingElement>(null);
  useDocumentTitle(title);
  useEffect(() => {
    if (navigations > 0) ref.current?.focus();
  }, [navigations]);
  return (
    <h1 ref={ref} tabIndex={-1} className="page-title">
      {children ?? title}
    </h1>
  );
}

interface PageHeaderProps extends PageHeadingProps {
  /** A line under the title. */
  description?: ReactNode;
  /** Buttons or links at the right. */
  actions?: ReactNode;
  /** Above the title (a back link). */
  eyebrow?: ReactNode;
}

export function PageHeader({ title, children, description, actions, eyebrow }: PageHeaderProps) {
  return (
    <header className="page-header">
      <div className="page-header__text">
        {eyebrow ? <div className="page-header__eyebrow">{eyebrow}</div> : null}
        <PageHeading title={title}>{children}</PageHeading>
        {description ? <p className="page-header__description">{description}</p> : null}
      </div>
      {actions ? <div className="page-header__actions">{actions}</div> : null}
    </header>
  );
}
