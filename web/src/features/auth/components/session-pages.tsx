import type { ReactNode } from 'react';
import { PRODUCT_NAME, useDocumentTitle } from '@/components/page';

function FullPage({ title, children }: { title: string; children: ReactNode }) {
  useDocumentTitle(title);
  return (
    <div className="full-page">
      <main id="main" className="full-page__card">
        <p className="full-page__brand">{PRODUCT_NAME}</p>
        <h1 className="page-title">{title}</h1>
        {children}
      </main>
    </div>
  );
}

/** No token: the portal is opened only through a link from the provider. */
export function SignInRequired() {
  return (
    <FullPage title="Sign-in required">
      <p>
        This portal opens from a sign-in link. Ask your provider for a link to the Mechanica
        customer portal and open it in this browser.
      </p>
      <p className="muted">
        For your security the link works for a limited time and signs you in for this browser tab
        only.
      </p>
    </FullPage>
  );
}

/** The session expired, was revoked or is unknown. */
export function LinkExpired() {
  return (
    <FullPage title="This link has expired">
      <p>
        Your portal link has expired or was revoked, so you have been signed out. Ask your
        provider for a new link to continue.
      </p>
    </FullPage>
  );
}

export function SignedOut() {
  return (
    <FullPage title="Signed out">
      <p>You have signed out of the customer portal. You can close this tab.</p>
      <p className="muted">To come back, open a new sign-in link from your provider.</p>
    </FullPage>
  );
}
