// A real ASP.NET Web API SelfHost server with every endpoint the client calls, for the
// conformance suite. It listens on 127.0.0.1 only.
//
//   mono server.exe PORT        (credentials in SHOPAPI_CONFORMANCE_USER / _PASSWORD;
//                                SHOPAPI_CONFORMANCE_NEWLINE=crlf writes XML as Windows does)
//
// Prints "LISTENING" once open (or "FAILED: ..." and exits 3), and stops when stdin closes.
//
// Web API here is Mono's 2012 pre-release build: model binding, DataAnnotations
// validation ([Required], [MaxLength] on the generated models), routing and content
// negotiation are the real ones. It has no HttpError, so 400s are built in HttpError's
// shape from the real ModelState. Its JsonMediaTypeFormatter is kept as it is; its XML
// formatter is given current AspNetWebStack's writer settings (XmlWire.WriteXml), which
// this build cannot configure.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Formatting;
using System.Net.Http.Headers;
using System.Reflection;
using System.ServiceModel;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Web.Http;
using System.Web.Http.ModelBinding;
using System.Web.Http.SelfHost;
using System.Xml;
using Newtonsoft.Json.Linq;
using ShopCtrl.Models;

namespace ShopCtrl.Conformance
{
    public class ServerXmlFormatter : XmlMediaTypeFormatter
    {
        public string NewLine;

        public override Task WriteToStreamAsync(Type type, object value, Stream stream, HttpContentHeaders headers, TransportContext context)
        {
            byte[] body = XmlWire.WriteXml(value, NewLine);
            stream.Write(body, 0, body.Length);
            TaskCompletionSource<object> done = new TaskCompletionSource<object>();
            done.SetResult(null);
            return done.Task;
        }
    }

    public static class Store
    {
        public static readonly object Lock = new object();
        public static readonly Dictionary<string, MessageConversation> Conversations = new Dictionary<string, MessageConversation>();
        public static readonly Dictionary<string, List<MessageBasicInfo>> Messages = new Dictionary<string, List<MessageBasicInfo>>();
        public static int NextMessageId = 1;

        public static string Key(int shopId, int conversationId)
        {
            return shopId + "/" + conversationId;
        }

        // Copies the properties two model types share (a Changes into its read type).
        public static T Copy<T>(object source) where T : new()
        {
            T target = new T();
            foreach (PropertyInfo p in typeof(T).GetProperties())
            {
                PropertyInfo q = source.GetType().GetProperty(p.Name);
                if (q != null) p.SetValue(target, q.GetValue(source, null), null);
            }
            return target;
        }
    }

    public static class Answers
    {
        static bool WantsXml(HttpRequestMessage request)
        {
            double json = -1, xml = -1;
            foreach (MediaTypeWithQualityHeaderValue a in request.Headers.Accept)
            {
                double q = a.Quality ?? 1.0;
                string m = a.MediaType.ToLowerInvariant();
                if (m.EndsWith("/xml") || m.EndsWith("+xml")) xml = Math.Max(xml, q);
                else if (m.EndsWith("/json") || m.EndsWith("+json") || m == "*/*") json = Math.Max(json, q);
            }
            if (xml < 0 && json < 0 && request.Content != null && request.Content.Headers.ContentType != null)
                return request.Content.Headers.ContentType.MediaType.ToLowerInvariant().EndsWith("xml");
            return xml > json;
        }

        // HttpError's shape: {"Message":..., "ModelState":{key:[...]}} or <Error>...</Error>.
        public static HttpResponseMessage Error(HttpRequestMessage request, HttpStatusCode status, string message, ModelStateDictionary state)
        {
            List<KeyValuePair<string, List<string>>> entries = new List<KeyValuePair<string, List<string>>>();
            if (state != null)
            {
                foreach (KeyValuePair<string, ModelState> pair in state)
                {
                    List<string> texts = new List<string>();
                    foreach (ModelError e in pair.Value.Errors)
                        texts.Add(!string.IsNullOrEmpty(e.ErrorMessage) ? e.ErrorMessage : e.Exception != null ? e.Exception.Message : "");
                    if (texts.Count > 0) entries.Add(new KeyValuePair<string, List<string>>(pair.Key, texts));
                }
            }
            HttpResponseMessage response = new HttpResponseMessage(status);
            if (WantsXml(request))
            {
                MemoryStream ms = new MemoryStream();
                XmlWriterSettings settings = new XmlWriterSettings { OmitXmlDeclaration = true, CheckCharacters = false, Encoding = XmlWire.Utf8 };
                using (XmlWriter w = XmlWriter.Create(ms, settings))
                {
                    w.WriteStartElement("Error");
                    w.WriteElementString("Message", message);
                    if (entries.Count > 0)
                    {
                        w.WriteStartElement("ModelState");
                        foreach (KeyValuePair<string, List<string>> entry in entries)
                            foreach (string text in entry.Value)
                                w.WriteElementString(entry.Key, text);
                        w.WriteEndElement();
                    }
                    w.WriteEndElement();
                }
                response.Content = new ByteArrayContent(ms.ToArray());
                response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/xml") { CharSet = "utf-8" };
            }
            else
            {
                JObject body = new JObject();
                body["Message"] = message;
                if (entries.Count > 0)
                {
                    JObject o = new JObject();
                    foreach (KeyValuePair<string, List<string>> entry in entries)
                        o[entry.Key] = new JArray(entry.Value.ToArray());
                    body["ModelState"] = o;
                }
                response.Content = new ByteArrayContent(XmlWire.Utf8.GetBytes(body.ToString(Newtonsoft.Json.Formatting.None)));
                response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            }
            return response;
        }

        public static HttpResponseMessage Invalid(HttpRequestMessage request, ModelStateDictionary state)
        {
            return Error(request, HttpStatusCode.BadRequest, "The request is invalid.", state);
        }

        public static HttpResponseMessage Missing(HttpRequestMessage request, int shopId, int conversationId)
        {
            return Error(request, HttpStatusCode.NotFound, "No conversation " + conversationId + " in shop " + shopId + ".", null);
        }
    }

    public class BasicAuthHandler : DelegatingHandler
    {
        readonly string expected;

        public BasicAuthHandler(string user, string password)
        {
            expected = Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            AuthenticationHeaderValue auth = request.Headers.Authorization;
            if (auth != null && auth.Scheme == "Basic" && auth.Parameter == expected)
                return base.SendAsync(request, cancellationToken).ContinueWith(t => Close(t.Result));
            HttpResponseMessage denied = Answers.Error(request, HttpStatusCode.Unauthorized, "Authorization has been denied for this request.", null);
            denied.Headers.WwwAuthenticate.Add(new AuthenticationHeaderValue("Basic", "realm=\"ShopCtrl\""));
            TaskCompletionSource<HttpResponseMessage> done = new TaskCompletionSource<HttpResponseMessage>();
            done.SetResult(Close(denied));
            return done.Task;
        }

        // A precaution: one connection per request, so that no idle keep-alive connection
        // holds on to Mono's SelfHost between tests (a long-lived server process was seen
        // to stop answering; the fixtures start a fresh one per test module for that).
        static HttpResponseMessage Close(HttpResponseMessage response)
        {
            response.Headers.ConnectionClose = true;
            return response;
        }
    }

    public class MessageConversationsController : ApiController
    {
        public HttpResponseMessage Get(int shopId, int pageSize = 100, int pageNumber = 1)
        {
            List<MessageConversationBasicInfo> page;
            lock (Store.Lock)
            {
                page = Store.Conversations.Values
                    .Where(c => c.ShopId == shopId)
                    .OrderBy(c => c.Id)
                    .Skip((pageNumber - 1) * pageSize)
                    .Take(pageSize)
                    .Select(c => Store.Copy<MessageConversationBasicInfo>(c))
                    .ToList();
            }
            return Request.CreateResponse(HttpStatusCode.OK, page);
        }

        // An upsert, so that tests can create what they read.
        public HttpResponseMessage Put(int shopId, int messageConversationId, MessageConversationChanges changes)
        {
            if (changes == null && ModelState.IsValid)
                ModelState.AddModelError("changes", "A request body is required.");
            if (changes != null && changes.Id != messageConversationId)
                ModelState.AddModelError("changes.Id", "Id " + changes.Id + " does not match the URL's messageConversationId " + messageConversationId + ".");
            if (changes != null && changes.ShopId != shopId)
                ModelState.AddModelError("changes.ShopId", "ShopId " + changes.ShopId + " does not match the URL's shopId " + shopId + ".");
            if (!ModelState.IsValid)
                return Answers.Invalid(Request, ModelState);
            MessageConversation saved = Store.Copy<MessageConversation>(changes);
            lock (Store.Lock) Store.Conversations[Store.Key(shopId, messageConversationId)] = saved;
            return Request.CreateResponse(HttpStatusCode.OK, saved);
        }
    }

    public class MessagesController : ApiController
    {
        public HttpResponseMessage Get(int shopId, int messageConversationId, int pageSize = 100, int pageNumber = 1)
        {
            List<MessageBasicInfo> page;
            lock (Store.Lock)
            {
                if (!Store.Conversations.ContainsKey(Store.Key(shopId, messageConversationId)))
                    return Answers.Missing(Request, shopId, messageConversationId);
                List<MessageBasicInfo> all;
                if (!Store.Messages.TryGetValue(Store.Key(shopId, messageConversationId), out all))
                    all = new List<MessageBasicInfo>();
                page = all.Skip((pageNumber - 1) * pageSize).Take(pageSize).ToList();
            }
            return Request.CreateResponse(HttpStatusCode.OK, page);
        }

        public HttpResponseMessage Post(int shopId, int messageConversationId, MessageChanges message)
        {
            if (message == null && ModelState.IsValid)
                ModelState.AddModelError("message", "A request body is required.");
            if (message != null && message.Id != 0)
                ModelState.AddModelError("message.Id", "Id must be 0 for a new message.");
            if (message != null && message.MessageConversationId != messageConversationId)
                ModelState.AddModelError("message.MessageConversationId", "MessageConversationId " + message.MessageConversationId + " does not match the URL's messageConversationId " + messageConversationId + ".");
            if (!ModelState.IsValid)
                return Answers.Invalid(Request, ModelState);
            MessageBasicInfo stored = Store.Copy<MessageBasicInfo>(message);
            lock (Store.Lock)
            {
                string key = Store.Key(shopId, messageConversationId);
                if (!Store.Conversations.ContainsKey(key))
                    return Answers.Missing(Request, shopId, messageConversationId);
                stored.Id = Store.NextMessageId++;
                List<MessageBasicInfo> all;
                if (!Store.Messages.TryGetValue(key, out all))
                    Store.Messages[key] = all = new List<MessageBasicInfo>();
                all.Add(stored);
            }
            return Request.CreateResponse(HttpStatusCode.OK, stored);
        }
    }

    public static class Server
    {
        public static int Main(string[] args)
        {
            try
            {
                string user = Environment.GetEnvironmentVariable("SHOPAPI_CONFORMANCE_USER");
                string password = Environment.GetEnvironmentVariable("SHOPAPI_CONFORMANCE_PASSWORD");
                if (string.IsNullOrEmpty(user) || password == null)
                    throw new ArgumentException("SHOPAPI_CONFORMANCE_USER and _PASSWORD must be set");
                HttpSelfHostConfiguration config = new HttpSelfHostConfiguration("http://127.0.0.1:" + int.Parse(args[0]) + "/");
                config.HostNameComparisonMode = HostNameComparisonMode.Exact;
                config.IncludeErrorDetailPolicy = IncludeErrorDetailPolicy.Always;
                config.Formatters.Remove(config.Formatters.XmlFormatter);
                config.Formatters.Add(new ServerXmlFormatter
                {
                    UseXmlSerializer = true,
                    NewLine = Environment.GetEnvironmentVariable("SHOPAPI_CONFORMANCE_NEWLINE") == "crlf" ? "\r\n" : null,
                });
                config.MessageHandlers.Add(new BasicAuthHandler(user, password));
                config.Routes.MapHttpRoute("messages", "v1/Shops/{shopId}/MessageConversations/{messageConversationId}/Messages", new { controller = "Messages" });
                config.Routes.MapHttpRoute("conversation", "v1/Shops/{shopId}/MessageConversations/{messageConversationId}", new { controller = "MessageConversations" });
                config.Routes.MapHttpRoute("conversations", "v1/Shops/{shopId}/MessageConversations", new { controller = "MessageConversations" });
                using (HttpSelfHostServer server = new HttpSelfHostServer(config))
                {
                    server.OpenAsync().Wait();
                    Console.WriteLine("LISTENING");
                    Console.Out.Flush();
                    while (Console.In.ReadLine() != null) { }
                    server.CloseAsync().Wait();
                }
                return 0;
            }
            catch (Exception e)
            {
                Console.WriteLine("FAILED: " + e.ToString().Replace("\n", " | "));
                Console.Out.Flush();
                return 3;
            }
        }
    }
}
