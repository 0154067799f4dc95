import { Component, type ReactNode } from 'react';
import { reportError } from '../telemetry/faro.ts';

/** Keeps a crashing page from blanking the whole dashboard, and reports the crash to Faro. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: { componentStack?: string | null }) {
    reportError(error, { componentStack: info.componentStack ?? '' });
  }

  override render() {
    if (this.state.error) {
      return (
        <div className="state state-error" role="alert">
          <span>
            <strong>This page failed.</strong> {this.state.error.message}
          </span>
          <button type="button" className="btn btn-small" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}
