package org.elasticsearch.node;

import java.util.Collection;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

/**
 * A production Node whose plugins come from the classpath (there is no distribution's modules/
 * directory here). It lives in Node's package because the constructor that takes a service
 * provider is package-private. Only the plugin loading is replaced: every service is the
 * production one. MockNode, which this replaces, triggers ESTestCase's static set-up on the way
 * (Netty's leak detector in paranoid mode, which records a stack trace for every buffer; the
 * LeakTracker; test entitlements; randomized system properties): costs a node under a bulk load
 * must not carry. MockPluginsService is only the classpath plugin loader; it installs no mock.
 */
public class ClasspathNode extends Node {
  public ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
    super(NodeConstruction.prepareConstruction(environment, null, new NodeServiceProvider() {
      @Override
      PluginsService newPluginService(Environment env, PluginsLoader loader) {
        return new MockPluginsService(env.settings(), env, plugins);
      }
    }, true));
  }
}
